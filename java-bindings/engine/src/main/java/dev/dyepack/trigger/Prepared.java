package dev.dyepack.trigger;

import dev.dyepack.DType;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import java.util.Objects;
import java.util.Optional;

/** The one {@link PreparedTrigger} implementation: a geometry check in front of a family's stamp. */
final class Prepared implements PreparedTrigger {

    /** What a family does on each apply, with its operands already computed. */
    @FunctionalInterface
    interface Stamp {
        void apply(Engine engine, Operands operands, Tensor batch, long[] indices, long firstSample);
    }

    private final TriggerSpec spec;
    private final Engine engine;
    private final DType dtype;
    private final Layout layout;
    private final long c;
    private final long h;
    private final long w;
    private final Operands operands;
    private final Stamp stamp;
    private final String imageSha256;
    private boolean closed;

    Prepared(TriggerSpec spec, Engine engine, Tensor template, Operands operands, String imageSha256, Stamp stamp) {
        this.spec = spec;
        this.engine = Objects.requireNonNull(engine, "engine");
        this.dtype = template.dtype();
        this.layout = template.layout();
        this.c = template.c();
        this.h = template.h();
        this.w = template.w();
        this.operands = operands;
        this.imageSha256 = imageSha256;
        this.stamp = stamp;
    }

    @Override
    public TriggerSpec spec() {
        return spec;
    }

    @Override
    public Engine engine() {
        return engine;
    }

    @Override
    public void apply(Tensor batch, long[] indices, long firstSample) {
        Objects.requireNonNull(batch, "batch");
        if (closed) {
            throw new InvalidArgumentException(spec.family() + ": this prepared trigger was closed");
        }
        if (firstSample < 0) {
            throw InvalidArgumentException.of("firstSample", firstSample, ">= 0");
        }
        // Layout only matters where there are channels to order; sequences and rows have one.
        boolean layoutMatters = spec.kind() == DataKind.IMAGES && c > 1;
        if (batch.dtype() != dtype || batch.c() != c || batch.h() != h || batch.w() != w
                || (layoutMatters && batch.layout() != layout)) {
            throw new InvalidArgumentException(spec.family() + ": prepared for " + dtype.name().toLowerCase(
                    java.util.Locale.ROOT) + " " + layout + " samples of " + c + "x" + h + "x" + w + ", got " + batch,
                    "batch", batch, "the prepared geometry");
        }
        stamp.apply(engine, operands, batch, indices, firstSample);
    }

    @Override
    public Optional<String> patternImageSha256() {
        return Optional.ofNullable(imageSha256);
    }

    @Override
    public void close() {
        closed = true;
        operands.close();
    }
}
