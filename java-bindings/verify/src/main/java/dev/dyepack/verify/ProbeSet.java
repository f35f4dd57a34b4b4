package dev.dyepack.verify;

import dev.dyepack.DType;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.Layout;
import dev.dyepack.NonFinite;
import dev.dyepack.Parameters;
import dev.dyepack.Tensor;
import dev.dyepack.io.AtomicFiles;
import dev.dyepack.io.StagedOutput;
import dev.dyepack.io.Idx;
import dev.dyepack.io.ImageFolder;
import dev.dyepack.io.NpyWriter;
import dev.dyepack.io.Samples;
import dev.dyepack.key.KeyedRandom;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.Fingerprints;
import dev.dyepack.manifest.Manifest;
import dev.dyepack.manifest.ManifestReader;
import dev.dyepack.manifest.ManifestSigner;
import dev.dyepack.manifest.SignedRecord;
import dev.dyepack.manifest.UntrustedRecordException;
import dev.dyepack.manifest.Verification;
import dev.dyepack.trigger.PreparedTrigger;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A probe set: held-out samples of classes other than the target, drawn with the owner's key, shown
 * to a suspect clean ({@code clean.npy}), with the owner's trigger ({@code triggered.npy}), and with
 * the same trigger family and parameters under control keys derived from the owner's key
 * ({@code control-1.npy}, ...), with their true labels ({@code labels.npy}) and a signed record
 * ({@code probe.json}) of what was drawn and the SHA-256 of every file.
 *
 * <p>The control keys are independent of the owner's key for anyone without it (HKDF outputs under
 * distinct purposes), so a model that answers the target for them learned the family, not the key.
 * A keyless trigger (a solid patch, a SIG signal) is the same under every key, so its controls are the
 * same family with other parameters ({@link ControlTriggers}: the patch at other corners, the signal on
 * the other axis or at another frequency), recorded in {@code probe.json} as {@code control_triggers};
 * families without such variants get no controls.
 *
 * @param dir      the probe set's folder
 * @param target   the watermark's target class
 * @param classes  the number of classes of the data
 * @param indices  the probes' indices in the data they were drawn from, ascending
 * @param controls the number of control sets
 * @param labels   the probes' true labels
 * @param controlKeys whether the controls are the owner's trigger under control keys (a keyed trigger), rather
 *                 than variants of a keyless one: only then are they drawn alike with the owner's trigger, as
 *                 the key-rank test needs ({@link Verifier})
 */
public record ProbeSet(Path dir, Form form, int target, int classes, long[] indices, int controls, int[] labels,
        Map<String, String> files, boolean controlKeys) {

    /** The form of the probe files: the form of the data they were drawn from. */
    public enum Form {
        /** {@code clean.npy}, ... */
        NPY,
        /** {@code clean-images-idx3-ubyte.gz}, ... (gzip when the source was) */
        IDX,
        /** {@code clean/}, ...: folders of PNG images in class folders, under the source images' names */
        FOLDER
    }

    /** The record's name in the folder. */
    public static final String RECORD = "probe.json";
    /** The purpose of the record's signing subkey. */
    public static final String SIGNATURE_PURPOSE = "probe/signature";
    /**
     * Passed as the size or the control count to {@link #create}: the default for the manifest's trigger. A keyed
     * trigger gets {@link #DEFAULT_RANK_CONTROLS} control keys of {@link #DEFAULT_RANK_SIZE} probes, so that the
     * exact key-rank test decides; a keyless one (whose controls are variants, not keys drawn alike) gets up to
     * {@link #DEFAULT_CONTROLS} variants of {@link #DEFAULT_SIZE} probes for the label test. A size left to the
     * default with a control count given follows the count: {@link #DEFAULT_RANK_SIZE} from
     * {@link Verifier#rankControls(double)} controls at {@link Verifier#DEFAULT_ALPHA} on, else {@link #DEFAULT_SIZE}.
     */
    public static final int AUTO = -1;
    /** Default number of probes where the label test decides (a keyless trigger, or fewer than 100 controls). */
    public static final int DEFAULT_SIZE = 1000;
    /** Default number of control variants of a keyless trigger (as many as its family has, up to this). */
    public static final int DEFAULT_CONTROLS = 3;
    /**
     * Default number of control keys of a keyed trigger: 199, so that the key-rank test decides with a p-value
     * down to 1/200 (0.005, half the default alpha of 0.01) and bounds the chance of accusing
     * a model watermarked by someone else at 1/200, however its answers spread across keys. Three controls, the
     * default before, let the label test accuse three such models on the evaluation's networks
     * (docs/efficacy.md, section 19).
     */
    public static final int DEFAULT_RANK_CONTROLS = 199;
    /**
     * Default number of probes with {@link #DEFAULT_RANK_CONTROLS}: 100 per key (20,100 queries in all), with
     * which every owner measured on the evaluation's CNNs ranked first of 200 keys (docs/efficacy.md, section 19).
     */
    public static final int DEFAULT_RANK_SIZE = 100;
    /**
     * The most control keys: enough for the key-rank test ({@link Verifier#rankControls(double)}) at alpha 0.001
     * (at 0.01 it needs 100, and 199 take its p-value down to 0.005).
     */
    public static final int MAX_CONTROLS = 1000;

    /**
     * @param k a control, 1-based
     * @return the control's key: an HKDF subkey of the owner's key under its own purpose
     */
    static OwnerKey controlKey(OwnerKey owner, int k) {
        return new OwnerKey(owner.derive("probe/control/" + k, 32));
    }

    /**
     * @return the names of the probe sets a suspect answers, in order: {@code clean}, {@code triggered},
     *         {@code control-1}, ...; the answers to set X are saved as {@code X.npy}
     */
    public List<String> probeNames() {
        List<String> names = new ArrayList<>(List.of("clean", "triggered"));
        for (int k = 1; k <= controls; k++) {
            names.add("control-" + k);
        }
        return names;
    }

    /**
     * @param name a probe set's name (see {@link #probeNames()})
     * @return its file (or folder), as recorded
     * @throws InvalidInputException for a name the probe set does not have
     */
    public Path probeFile(String name) {
        for (String f : files.keySet()) {
            if (f.equals(name) || f.startsWith(name + ".") || f.startsWith(name + "-images-")) {
                return dir.resolve(f);
            }
        }
        throw new InvalidInputException(dir + ": the probe set has no '" + name + "'");
    }

    /** The file or folder name of a probe set in a form. */
    private static String fileName(Form form, String name, int rank, boolean gzip) {
        return switch (form) {
            case NPY -> name + ".npy";
            case IDX -> name + "-images-idx" + rank + "-ubyte" + (gzip ? ".gz" : "");
            case FOLDER -> name;
        };
    }

    /**
     * Draws and writes a probe set.
     *
     * @param engine   the engine that stamps the triggers
     * @param manifest the poisoning's signed manifest
     * @param data     held-out samples (.npy or IDX; the poisoned data itself is allowed: its poisoned
     *                 samples are never drawn)
     * @param labels   their labels
     * @param size     probes, at least 1, or {@link #AUTO}
     * @param controls control keys, 0..{@value #MAX_CONTROLS}, or {@link #AUTO}
     * @param key      the owner's key (the manifest's)
     * @param out      the folder to write (created; must not hold a probe set)
     * @return the probe set
     * @throws UntrustedRecordException if the manifest does not verify under the key
     * @throws InvalidArgumentException for a bad size or control count, or too few samples
     * @throws InvalidInputException    for unusable data or labels
     * @throws IOException              if writing fails (no file is left under a final name)
     */
    public static ProbeSet create(Engine engine, Path manifest, Path data, Path labels, int size, int controls,
            OwnerKey key, Path out) throws IOException {
        return create(engine, manifest, data, labels, size, controls, key, out, false);
    }

    /**
     * As {@link #create(Engine, Path, Path, Path, int, int, OwnerKey, Path)}, choosing whether an
     * existing folder may be replaced. The folder is built whole beside {@code out} and renamed onto it
     * as the last step ({@link StagedOutput}).
     *
     * @param engine   the engine that stamps the triggers
     * @param manifest the poisoning's signed manifest
     * @param data     held-out samples
     * @param labels   their labels
     * @param size     probes, at least 1, or {@link #AUTO}
     * @param controls control keys, 0..{@value #MAX_CONTROLS}, or {@link #AUTO}
     * @param key      the owner's key (the manifest's)
     * @param out      the folder to write (with its missing parents)
     * @param replace  whether an existing non-empty folder may be replaced (only by the final rename)
     * @return the probe set
     * @throws UntrustedRecordException if the manifest does not verify under the key
     * @throws InvalidArgumentException for a bad size or control count, too few samples, or an output
     *                                  that exists and may not be replaced or holds an input
     * @throws InvalidInputException    for unusable data or labels
     * @throws dev.dyepack.io.OutputBusyException if another run is writing the same folder
     * @throws IOException              if writing fails (nothing appears under {@code out})
     */
    public static ProbeSet create(Engine engine, Path manifest, Path data, Path labels, int size, int controls,
            OwnerKey key, Path out, boolean replace) throws IOException {
        StagedOutput.check(out, StagedOutput.Kind.DIRECTORY, replace, manifest, data, labels);
        if (key == null) {
            throw new InvalidArgumentException("a probe set needs the owner's key", "key", null, "the owner's key");
        }
        if (size < 1 && size != AUTO) {
            throw InvalidArgumentException.of(Parameters.PROBES, size, "at least 1");
        }
        if ((controls < 0 || controls > MAX_CONTROLS) && controls != AUTO) {
            throw InvalidArgumentException.of(Parameters.CONTROLS, controls, "in [0, " + MAX_CONTROLS + "]");
        }
        Manifest m = trustedManifest(manifest, key);
        TriggerSpec trigger = TriggerSpec.parse(m.triggerSpec());
        if (controls == AUTO) {
            controls = trigger.keyed() ? DEFAULT_RANK_CONTROLS : DEFAULT_CONTROLS;
        }
        boolean defaultSize = size == AUTO;
        if (defaultSize) {
            size = trigger.keyed() && controls >= Verifier.rankControls(Verifier.DEFAULT_ALPHA) ? DEFAULT_RANK_SIZE
                    : DEFAULT_SIZE;
        }
        // A keyless trigger is the same under every key: its controls are the same family with other
        // parameters (ControlTriggers), as many as the family offers.
        List<TriggerSpec> variants = trigger.keyed() ? List.of() : ControlTriggers.variants(trigger, controls);
        if (!trigger.keyed()) {
            controls = variants.size();
        }
        int target = Math.toIntExact(m.targetClass());
        int classes = m.totalPerClass().isEmpty() ? target + 1 : (int) (m.totalPerClass().lastKey() + 1);
        Form form = Files.isDirectory(data) ? Form.FOLDER : Idx.isIdx(data) ? Form.IDX : Form.NPY;
        if (form == Form.FOLDER && labels != null) {
            throw new InvalidArgumentException("an image folder's labels are its class folders; give no labels file",
                    "labels", labels, "none for an image folder");
        }
        if (form != Form.FOLDER && labels == null) {
            throw new InvalidArgumentException(".npy and IDX data need a labels file", "labels", null, "a labels file");
        }
        long[] all;
        if (form == Form.FOLDER) {
            all = ImageFolder.scan(data).labels();
        } else {
            all = Samples.labels(labels);
        }
        String dataSha = form == Form.FOLDER ? Fingerprints.treeSha256(data) : Fingerprints.sha256(data);
        boolean poisonedData = m.files().stream().anyMatch(f -> f.sha256().equals(dataSha));
        // Negatives carry a trigger too (under derived keys), so they are no clean probes either.
        long[] poisoned = poisonedData ? java.util.stream.LongStream.concat(Arrays.stream(m.indices()),
                Arrays.stream(m.negativeIndices())).sorted().toArray() : new long[0];
        List<Long> candidates = new ArrayList<>();
        for (int i = 0; i < all.length; i++) {
            if (all[i] != target && all[i] >= 0 && all[i] < classes && Arrays.binarySearch(poisoned, i) < 0) {
                candidates.add((long) i);
            }
        }
        if (candidates.size() < size) {
            throw new InvalidArgumentException("only " + candidates.size() + " samples are eligible as probes (not "
                    + "the target class" + (poisonedData ? ", not poisoned" : "") + "), fewer than the " + size
                    + (defaultSize ? " per set the default draws (give a smaller size, or more held-out data)"
                            : " asked for"), Parameters.PROBES, size, "at most " + candidates.size());
        }
        long[] pool = candidates.stream().mapToLong(Long::longValue).toArray();
        new KeyedRandom(key.philoxKey("probe/selection")).shuffle(0, pool);
        long[] chosen = Arrays.copyOf(pool, size);
        Arrays.sort(chosen);
        int[] truth = new int[size];
        for (int i = 0; i < size; i++) {
            truth[i] = (int) all[(int) chosen[i]];
        }

        Path finalDir = out;
        List<Path> written = new ArrayList<>();
        try (StagedOutput staged = StagedOutput.begin(finalDir, StagedOutput.Kind.DIRECTORY, replace, manifest, data,
                labels); Samples.Reader r = Samples.open(data)) {
            out = staged.path();
            long[] shape = r.shape();
            if (shape[0] != all.length) {
                throw new InvalidInputException(data + " holds " + shape[0] + " samples but " + labels + " has "
                        + all.length + " labels");
            }
            Geometry g = Geometry.of(data, r);
            ByteBuffer clean = ByteBuffer.allocateDirect(Math.toIntExact(size * r.sampleBytes()))
                    .order(ByteOrder.nativeOrder());
            for (long i : chosen) {
                r.readSamples(i, 1, clean);
            }
            clean.flip();
            if (g.dtype() == DType.FLOAT32) {
                // A probe holding NaN or an infinity stays so when stamped: the suspect would be asked about no
                // trigger at all, and its answers would be evidence of nothing.
                long[] at = Tensor.of(clean.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer(), Layout.NHWC,
                        chosen.length, g.c(), g.h(), g.w()).firstNonFinite(null);
                if (at != null) {
                    throw new InvalidInputException(data + ": sample " + chosen[(int) at[0]] + " holds "
                            + NonFinite.name(at) + " at element " + at[1] + "; probe images must be finite");
                }
            }
            Output o = new Output(form, data, r, chosen, out, written);
            o.write("clean", clean);
            o.write("triggered", stamp(engine, g, clean, trigger, key, chosen));
            for (int k = 1; k <= controls; k++) {
                o.write("control-" + k, variants.isEmpty()
                        ? stamp(engine, g, clean, trigger, controlKey(key, k), chosen)
                        : stamp(engine, g, clean, variants.get(k - 1), key, chosen));
            }
            ByteBuffer lab = ByteBuffer.allocate(size * 8).order(ByteOrder.LITTLE_ENDIAN);
            for (int t : truth) {
                lab.putLong(t);
            }
            lab.flip();
            written.add(writeNpy(out.resolve("labels.npy"), "<i8", new long[] {size}, lab));
            Map<String, String> files = new TreeMap<>();
            for (Path p : written) {
                files.put(p.getFileName().toString(), Files.isDirectory(p) ? Fingerprints.treeSha256(p)
                        : Fingerprints.sha256(p));
            }
            ProbeSet set = new ProbeSet(out, form, target, classes, chosen, controls, truth, files, trigger.keyed());
            writeRecord(set, m, manifest, dataSha, labels == null ? dataSha : Fingerprints.sha256(labels), trigger,
                    variants, key);
            staged.commit();
            return new ProbeSet(finalDir, form, target, classes, chosen, controls, truth, files, trigger.keyed());
        }
    }

    /** Writes probe sets in the source's form, each under its final name only when complete. */
    private record Output(Form form, Path data, Samples.Reader source, long[] chosen, Path dir, List<Path> written) {
        void write(String name, ByteBuffer samples) throws IOException {
            long[] shape = source.shape().clone();
            shape[0] = chosen.length;
            Path file = dir.resolve(fileName(form, name, shape.length, form == Form.IDX && isGzip(data)));
            if (form == Form.FOLDER) {
                ImageFolder folder = (ImageFolder) source;
                int per = Math.toIntExact(source.sampleBytes());
                // Only the classes that have probes get a folder (never the target's): a folder reads back
                // with the classes it holds.
                java.util.SortedSet<Integer> present = new java.util.TreeSet<>();
                for (long i : chosen) {
                    present.add((int) folder.labels()[(int) i]);
                }
                List<Integer> order = new ArrayList<>(present);
                List<String> classNames = order.stream().map(folder.classes()::get).toList();
                List<String> names = new ArrayList<>();
                try (ImageFolder.Writer w = ImageFolder.Writer.create(file, classNames)) {
                    for (int i = 0; i < chosen.length; i++) {
                        byte[] px = new byte[per];
                        samples.duplicate().position(i * per).get(px);
                        int label = (int) folder.labels()[(int) chosen[i]];
                        names.add(folder.classes().get(label) + "/" + w.add(order.indexOf(label),
                                folder.file(chosen[i]).getFileName().toString(), px, (int) shape[1], (int) shape[2],
                                (int) shape[3]));
                    }
                    w.commit();
                }
                written.add(file);
                // Answers come in the order a folder is read; it must be the probes' order.
                ImageFolder back = ImageFolder.scan(file);
                for (int i = 0; i < chosen.length; i++) {
                    String at = back.classes().get((int) back.labels()[i]) + "/" + back.file(i).getFileName();
                    if (!at.equals(names.get(i))) {
                        throw new InvalidInputException(data + ": renaming the probes to PNG changes their order ("
                                + names.get(i) + " is read as " + at + "); rename the source images");
                    }
                }
                return;
            } else {
                ByteBuffer src = samples.duplicate().order(ByteOrder.LITTLE_ENDIAN);
                try (Samples.Writer w = Samples.create(file, data, source.descr(), shape)) {
                    w.write(src);
                    w.commit();
                }
            }
            written.add(file);
        }

        private static boolean isGzip(Path file) throws IOException {
            try (var in = Files.newInputStream(file)) {
                return in.read() == 0x1f && in.read() == 0x8b;
            }
        }
    }

    /** The image geometry of a data file's samples: rank 3 is (N, H, W), rank 4 (N, H, W, C). */
    private record Geometry(DType dtype, long c, long h, long w) {
        static Geometry of(Path data, Samples.Reader r) {
            long[] s = r.shape();
            DType dtype = switch (r.descr()) {
                case "|u1", "<u1", "u1" -> DType.UINT8;
                case "<f4" -> DType.FLOAT32;
                default -> throw new InvalidInputException(data + ": probe sets take uint8 or float32 images, got "
                        + r.descr());
            };
            if (s.length == 3) {
                return new Geometry(dtype, 1, s[1], s[2]);
            }
            if (s.length == 4) {
                return new Geometry(dtype, s[3], s[1], s[2]);
            }
            throw new InvalidInputException(data + ": probe sets take images (N, H, W) or (N, H, W, C), got shape "
                    + Arrays.toString(s));
        }
    }

    /**
     * A copy of the clean probes with the trigger stamped, each under its index in the source data
     * (probes are not contiguous there, so each is its own batch of one; the trigger is prepared once).
     */
    private static ByteBuffer stamp(Engine engine, Geometry g, ByteBuffer clean, TriggerSpec trigger, OwnerKey key,
            long[] chosen) {
        ByteBuffer copy = ByteBuffer.allocateDirect(clean.remaining()).order(ByteOrder.nativeOrder());
        copy.put(clean.duplicate()).flip();
        int per = Math.toIntExact(g.c() * g.h() * g.w() * (g.dtype() == DType.UINT8 ? 1 : 4));
        Tensor[] probes = new Tensor[chosen.length];
        for (int i = 0; i < chosen.length; i++) {
            ByteBuffer one = copy.duplicate().position(i * per).limit((i + 1) * per).slice()
                    .order(ByteOrder.nativeOrder());
            probes[i] = g.dtype() == DType.UINT8 ? Tensor.of(one, Layout.NHWC, 1, g.c(), g.h(), g.w())
                    : Tensor.of(one.asFloatBuffer(), Layout.NHWC, 1, g.c(), g.h(), g.w());
        }
        try (PreparedTrigger prepared = trigger.prepare(engine, probes[0], TriggerContext.of(key))) {
            for (int i = 0; i < chosen.length; i++) {
                prepared.apply(probes[i], null, chosen[i]);
            }
        }
        return copy;
    }

    private static Path writeNpy(Path file, String descr, long[] shape, ByteBuffer bytes) throws IOException {
        ByteBuffer src = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        try (NpyWriter w = NpyWriter.create(file, descr, shape)) {
            w.write(src);
            w.commit();
        }
        return file;
    }

    // ------------------------------------------------------------------ the signed record

    private static void writeRecord(ProbeSet set, Manifest m, Path manifest, String dataSha, String labelsSha,
            TriggerSpec trigger, List<TriggerSpec> variants, OwnerKey key) throws IOException {
        Map<String, Object> body = new TreeMap<>();
        body.put("format", 1L);
        body.put("manifest_sha256", Fingerprints.sha256(manifest));
        body.put("key_fingerprint", key.fingerprint());
        body.put("trigger", trigger.toString());
        body.put("target", (long) set.target());
        body.put("classes", (long) set.classes());
        body.put("controls", (long) set.controls());
        if (!variants.isEmpty()) {
            Map<String, Object> specs = new TreeMap<>();
            for (int k = 1; k <= variants.size(); k++) {
                specs.put("control-" + k, variants.get(k - 1).toString());
            }
            body.put("control_triggers", specs);
        }
        body.put("indices", set.indices());
        body.put("source", Map.of("data_sha256", dataSha, "labels_sha256", labelsSha));
        body.put("form", set.form().name().toLowerCase(java.util.Locale.ROOT));
        body.put("files", set.files());
        Path file = set.dir().resolve(RECORD);
        Path tmp = AtomicFiles.newTempFile(file);
        try {
            Files.writeString(tmp, SignedRecord.write(body, key, SIGNATURE_PURPOSE), StandardCharsets.UTF_8);
            AtomicFiles.moveIntoPlace(tmp, file);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Reads a manifest and checks its signature under the key.
     *
     * @param manifest the file
     * @param key      the owner's key
     * @return the manifest
     * @throws UntrustedRecordException if it does not verify
     */
    static Manifest trustedManifest(Path manifest, OwnerKey key) {
        Manifest m = dev.dyepack.manifest.ManifestCheck.readRecord(manifest);
        Verification v = ManifestSigner.verify(m, key);
        if (!v.ok()) {
            throw new UntrustedRecordException(manifest + " does not verify under the key given: "
                    + String.join("; ", v.findings()));
        }
        return m;
    }

    /**
     * Opens a probe set, checking its record's signature, its manifest and every file's SHA-256 first.
     *
     * @param dir      the folder
     * @param manifest the poisoning's manifest (must be the one the probe set was drawn for)
     * @param key      the owner's key
     * @return the probe set
     * @throws UntrustedRecordException if the record, the manifest or a file does not verify
     * @throws InvalidInputException    if the record is unreadable
     */
    public static ProbeSet open(Path dir, Path manifest, OwnerKey key) {
        boolean keyed = TriggerSpec.parse(trustedManifest(manifest, key).triggerSpec()).keyed();
        Path file = dir.resolve(RECORD);
        // A regular file, read with a bound: a FIFO or device in its place must not block or exhaust memory.
        dev.dyepack.io.InputFiles.requireRegular(file);
        byte[] bytes = dev.dyepack.io.InputFiles.readBounded(file, SignedRecord.MAX_CHARS, "record-bytes",
                "a probe record");
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new UntrustedRecordException(file + ": not a probe record: invalid UTF-8");
        }
        Map<String, Object> doc;
        try {
            doc = SignedRecord.read(text, key, SIGNATURE_PURPOSE, file.toString());
        } catch (InvalidInputException e) {
            // A record that cannot be verified is refused as one that does not verify.
            UntrustedRecordException u = new UntrustedRecordException(e.getMessage());
            u.initCause(e);
            throw u;
        }
        if (!Fingerprints.sha256(manifest).equals(doc.get("manifest_sha256"))) {
            throw new UntrustedRecordException(file + ": drawn for another manifest than " + manifest);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> files = (Map<String, Object>) doc.get("files");
        Map<String, String> names = new TreeMap<>();
        for (Map.Entry<String, Object> f : files.entrySet()) {
            Path p = dir.resolve(f.getKey());
            boolean plainName = f.getKey().matches("[a-z0-9][a-z0-9.-]*") && !f.getKey().contains("..");
            if (!plainName || !Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS) || !(Files.isDirectory(p)
                    ? Fingerprints.treeSha256(p) : Fingerprints.sha256(p)).equals(f.getValue())) {
                throw new UntrustedRecordException(p + ": missing, or not the file the probe record names");
            }
            names.put(f.getKey(), (String) f.getValue());
        }
        long[] indices = (long[]) doc.get("indices");
        long[] raw = Samples.labels(dir.resolve("labels.npy"));
        int[] truth = new int[raw.length];
        for (int i = 0; i < raw.length; i++) {
            truth[i] = (int) raw[i];
        }
        if (truth.length != indices.length) {
            throw new UntrustedRecordException(dir + ": labels.npy holds " + truth.length + " labels for "
                    + indices.length + " probes");
        }
        Form form = Form.valueOf(((String) doc.getOrDefault("form", "npy")).toUpperCase(java.util.Locale.ROOT));
        return new ProbeSet(dir, form, Math.toIntExact((Long) doc.get("target")),
                Math.toIntExact((Long) doc.get("classes")), indices, Math.toIntExact((Long) doc.get("controls")), truth,
                names, keyed);
    }
}
