package dev.dyepack.mark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.dyepack.Backend;
import dev.dyepack.CudaStatus;
import dev.dyepack.DType;
import dev.dyepack.DeviceBuffer;
import dev.dyepack.Engine;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.key.OwnerKey;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Answers in device memory, marked by a CUDA engine, against the same answers marked from a host array by the CPU
 * engine: the same decisions, the same log, and the served rows written to the device bit for bit. Skipped (never
 * passed) where no GPU answers.
 */
@Tag("gpu")
class GpuAnswerMarkerTest {
    private static final int C = 10;
    private static final int D = 16;
    private static final OwnerKey KEY = new OwnerKey("gpu answer marker key, 32 bytes..".getBytes(
            StandardCharsets.UTF_8));

    @TempDir
    Path dir;

    private static float[] download(Engine engine, DeviceBuffer b, int count) {
        ByteBuffer host = ByteBuffer.allocateDirect(count * 4).order(ByteOrder.nativeOrder());
        b.copyTo(host);
        float[] v = new float[count];
        host.asFloatBuffer().get(v);
        return v;
    }

    @Test
    void deviceAnswersAreMarkedAsTheCpuMarksTheirHostCopy() throws Exception {
        CudaStatus cuda = CudaStatus.query();
        assumeTrue(cuda.available(), "no usable GPU: " + cuda.reason());
        for (AnswerKind kind : AnswerKind.values()) {
            SplittableRandom r = new SplittableRandom(kind.ordinal() + 11);
            int n = 5000;
            float[] answers = kind == AnswerKind.PROBABILITIES ? RandomAnswers.probabilities(r, n, C, 3) : new float[n * C];
            if (kind == AnswerKind.LOGITS) {
                for (int i = 0; i < answers.length; i++) {
                    answers[i] = (float) (4 * r.nextGaussian());
                }
            }
            byte[] q = new byte[n * D];
            r.nextBytes(q);
            Queries queries = Queries.ofBytes(q, n, D);
            AnswerMarker.Marking expected;
            try (Engine cpu = Engine.open(Backend.CPU); MarkLog log = MarkLog.open(dir.resolve("cpu-" + kind), KEY)) {
                expected = new AnswerMarker(cpu, KEY, log, 0.02).mark("acme", queries, answers, C, kind);
            }
            assertTrue(expected.changed() > 0);
            try (Engine gpu = Engine.open(Backend.CUDA); MarkLog log = MarkLog.open(dir.resolve("gpu-" + kind), KEY);
                    DeviceBuffer in = gpu.allocate(answers.length * 4L);
                    DeviceBuffer out = gpu.allocate(answers.length * 4L)) {
                ByteBuffer host = ByteBuffer.allocateDirect(answers.length * 4).order(ByteOrder.nativeOrder());
                host.asFloatBuffer().put(answers);
                in.copyFrom(host);
                Tensor a = Tensor.onDevice(in, DType.FLOAT32, Layout.NHWC, n, 1, 1, C);
                Tensor s = Tensor.onDevice(out, DType.FLOAT32, Layout.NHWC, n, 1, 1, C);
                AnswerMarker marker = new AnswerMarker(gpu, KEY, log, 0.02);
                AnswerMarker.Marking m = marker.mark("acme", queries, a, s, kind);
                assertArrayEquals(expected.outcomes(), m.outcomes(), kind.toString());
                assertEquals(expected.threshold(), m.threshold());
                assertArrayEquals(expected.top(), m.top());
                assertArrayEquals(expected.runnerUp(), m.runnerUp());
                assertArrayEquals(expected.served(), download(gpu, out, answers.length), "served on the device");
                assertArrayEquals(answers, download(gpu, in, answers.length), "the answers are not changed");
                // In place on the device.
                AnswerMarker.Marking again = marker.mark("acme", queries, a, a, kind);
                assertArrayEquals(expected.outcomes(), again.outcomes());
                assertArrayEquals(expected.served(), download(gpu, in, answers.length), "served in place");
            }
            assertEquals(MarkLog.read(dir.resolve("cpu-" + kind), KEY).answers().stream().map(MarkEntry::digest)
                    .toList(), MarkLog.read(dir.resolve("gpu-" + kind), KEY).answers().stream().map(MarkEntry::digest)
                    .toList());
        }
    }
}
