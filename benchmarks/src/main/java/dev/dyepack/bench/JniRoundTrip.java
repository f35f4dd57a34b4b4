package dev.dyepack.bench;

import dev.dyepack.Backend;
import dev.dyepack.Engine;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of crossing from Java into the engine, measured with JMH: one call that does almost nothing
 * natively ({@link Engine#threads(int)}: the handle check, one JNI call through JavaCPP, the engine's
 * lock, a status code back), and one small operation (a dense blend of one 28x28 uint8 image on a
 * direct buffer: the Tensor descriptor, the argument checks, the CPU loop), so the fixed cost per call
 * can be told apart from the work. Run:
 * {@code java -cp benchmarks/target/classes:benchmarks/target/lib/*:cli/target/dyepack.jar org.openjdk.jmh.Main JniRoundTrip}
 * (docs/benchmarks.md has the command that builds the class path, and a run).
 *
 * <p>Not thread-safe; JMH gives each thread its own state.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class JniRoundTrip {
    private Engine engine;
    private Tensor image;
    private Engine.Operand pattern;
    private Engine.Operand mask;
    private Engine team;
    private Tensor miniBatch;
    private Tensor largeBatch;
    private ByteBuffer miniSource;
    private ByteBuffer miniCopy;
    private ByteBuffer largeSource;
    private ByteBuffer largeCopy;
    private Engine.Operand teamPattern;
    private Engine.Operand teamMask;

    /**
     * Opens a CPU engine with one thread and a 28x28 image, and a CPU engine with every core, a mini-batch of 256
     * such images (the size a training loop stamps per step) and a batch of 4,096.
     */
    @Setup(Level.Trial)
    public void open() {
        engine = Engine.open(Backend.CPU).threads(1);
        ByteBuffer pixels = ByteBuffer.allocateDirect(28 * 28).order(ByteOrder.nativeOrder());
        image = Tensor.of(pixels, Layout.NHWC, 1, 1, 28, 28);
        float[] p = new float[28 * 28];
        float[] m = new float[28 * 28];
        java.util.Arrays.fill(p, 255f);
        java.util.Arrays.fill(m, 1f);
        pattern = engine.upload(p);
        mask = engine.upload(m);
        team = Engine.open(Backend.CPU);
        ByteBuffer batch = ByteBuffer.allocateDirect(256 * 28 * 28).order(ByteOrder.nativeOrder());
        miniBatch = Tensor.of(batch, Layout.NHWC, 256, 1, 28, 28);
        ByteBuffer large = ByteBuffer.allocateDirect(4096 * 28 * 28).order(ByteOrder.nativeOrder());
        largeBatch = Tensor.of(large, Layout.NHWC, 4096, 1, 28, 28);
        miniSource = batch.duplicate();
        miniCopy = ByteBuffer.allocateDirect(batch.capacity());
        largeSource = large.duplicate();
        largeCopy = ByteBuffer.allocateDirect(large.capacity());
        teamPattern = team.upload(p);
        teamMask = team.upload(m);
    }

    /** Closes the engines. */
    @TearDown(Level.Trial)
    public void close() {
        engine.close();
        team.close();
    }

    /**
     * One JNI round trip with no work behind it.
     *
     * @return the engine, so the call is not eliminated
     */
    @Benchmark
    public Engine oneCall() {
        return engine.threads(1);
    }

    /**
     * A whole small operation: blend a constant pattern (uploaded once, as a prepared trigger does) at
     * alpha 0.2 over one 28x28 image.
     *
     * @return the image, so the call is not eliminated
     */
    @Benchmark
    public Tensor blendOneImage() {
        engine.maskBlend(image, pattern, mask, 0.2f, null);
        return image;
    }

    /**
     * The same blend over a mini-batch of 256 images on an engine with every core.
     *
     * @return the batch, so the call is not eliminated
     */
    @Benchmark
    public Tensor blendMiniBatch() {
        team.maskBlend(miniBatch, teamPattern, teamMask, 0.2f, null);
        return miniBatch;
    }

    /**
     * The peer of {@link #blendMiniBatch}: a copy of the mini-batch's bytes to another direct buffer (the JDK's
     * bulk copy), which reads and writes as many bytes as the blend.
     *
     * @return the copy, so the call is not eliminated
     */
    @Benchmark
    public ByteBuffer copyMiniBatch() {
        return miniCopy.clear().put(miniSource.clear());
    }

    /**
     * The peer of {@link #blendLargeBatch}: a copy of its bytes, as {@link #copyMiniBatch}.
     *
     * @return the copy, so the call is not eliminated
     */
    @Benchmark
    public ByteBuffer copyLargeBatch() {
        return largeCopy.clear().put(largeSource.clear());
    }

    /**
     * The same blend over 4,096 images (3.2 MB), enough work for every core.
     *
     * @return the batch, so the call is not eliminated
     */
    @Benchmark
    public Tensor blendLargeBatch() {
        team.maskBlend(largeBatch, teamPattern, teamMask, 0.2f, null);
        return largeBatch;
    }
}
