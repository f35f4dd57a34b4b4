package dev.dyepack;

/**
 * The library's names for the parameters an {@link InvalidArgumentException} can name
 * ({@link InvalidArgumentException#parameter()}). They are the library's terms, not any front end's:
 * a command line maps each to its own option wording, so that library messages never name a flag.
 * Jobs and front ends use these constants rather than spelling the names again.
 */
public final class Parameters {
    private Parameters() {}

    /** The owner's secret key (keyed triggers, keyed selection, manifest signature). */
    public static final String KEY = "key";
    /** The poisoning budget: a fraction of the data or a count. */
    public static final String BUDGET = "budget";
    /** The explicit, recorded override of the 5% budget cap. */
    public static final String ALLOW_OVER_5_PERCENT = "allowOver5Percent";
    /** The reason recorded with the 5% override. */
    public static final String OVERRIDE_REASON = "overrideReason";
    /** The target class. */
    public static final String TARGET = "target";
    /** The selection strategy (keyed random, boundary nearest or farthest). */
    public static final String STRATEGY = "strategy";
    /** The poisoning mode (dirty-label or clean-label). */
    public static final String MODE = "mode";
    /** The surrogate that scores samples for boundary selection. */
    public static final String SURROGATE = "surrogate";
    /** Precomputed surrogate features (N x D). */
    public static final String FEATURES = "features";
    /** A linear head W (C x D), b (C). */
    public static final String HEAD = "head";
    /** Per-sample class labels. */
    public static final String LABELS = "labels";
    /** A list of sample indices. */
    public static final String INDICES = "indices";
    /** The trigger specification. */
    public static final String TRIGGER = "trigger";
    /** The input data. */
    public static final String DATA = "data";
    /** The output location. */
    public static final String OUT = "out";
    /** The memory layout of an image batch. */
    public static final String LAYOUT = "layout";
    /** The number of CPU threads. */
    public static final String THREADS = "threads";
    /** The compute backend (CPU or CUDA). */
    public static final String BACKEND = "backend";
    /** The probes per set of a probe set. */
    public static final String PROBES = "probes";
    /** The control sets of a probe set. */
    public static final String CONTROLS = "controls";

    /** A tensor's element type, against the memory it is given. */
    public static final String DTYPE = "dtype";
    /** A tensor's dimensions N, C, H, W. */
    public static final String SHAPE = "shape";
    /** The memory a tensor is made from (buffer or pointer). */
    public static final String MEMORY = "memory";
    /** The extent, in bytes, of the memory behind a pointer. */
    public static final String EXTENT_BYTES = "extentBytes";
    /** The strides, in elements, of a tensor's axes. */
    public static final String STRIDES = "strides";
}
