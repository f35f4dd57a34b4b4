package dev.dyepack.mark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.Backend;
import dev.dyepack.Engine;
import dev.dyepack.InvalidInputException;
import dev.dyepack.Tensor;
import dev.dyepack.key.OwnerKey;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AnswerMarkerTest {
    private static final int C = 10;
    private static final int D = 16;
    private static final OwnerKey KEY = new OwnerKey("answer marker test key, 32 bytes".getBytes(StandardCharsets.UTF_8));
    private static Engine engine;

    @TempDir
    Path dir;

    @BeforeAll
    static void open() {
        engine = Engine.open(Backend.CPU);
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    /** Random softmax rows from random logits; queries are random bytes. */
    private static float[] probabilities(SplittableRandom r, int n) {
        return RandomAnswers.probabilities(r, n, C, 3);
    }

    private static byte[] bytes(SplittableRandom r, int n) {
        byte[] q = new byte[n * D];
        r.nextBytes(q);
        return q;
    }

    /** The keyed bit computed here from the documented canonical form, independently of the marker. */
    private static boolean keyedBit(String client, byte[] query) throws Exception {
        byte[] subkey = KEY.derive("mark/client/" + client, 32);
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(subkey, "HmacSHA256"));
        ByteBuffer b = ByteBuffer.allocate(17 + 4 + 8 + 4 * query.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put("dyepack/query/v1".getBytes(StandardCharsets.US_ASCII)).put((byte) 0).putInt(1).putLong(D);
        for (byte v : query) {
            b.putFloat(v & 0xff);
        }
        return (mac.doFinal(b.array())[0] & 1) == 1;
    }

    private static int[] topTwo(float[] p, int i) {
        int top = 0;
        for (int c = 1; c < C; c++) {
            if (p[i * C + c] > p[i * C + top]) {
                top = c;
            }
        }
        int second = top == 0 ? 1 : 0;
        for (int c = 0; c < C; c++) {
            if (c != top && p[i * C + c] > p[i * C + second]) {
                second = c;
            }
        }
        return new int[] {top, second};
    }

    @Test
    void changesAboutTheBudgetAtTheLeastSureQueriesSwappingTheTopTwo() throws Exception {
        SplittableRandom r = new SplittableRandom(1);
        int n = 20_000;
        float[] p = probabilities(r, n);
        byte[] q = bytes(r, n);
        try (MarkLog log = MarkLog.open(dir.resolve("log"), KEY, MarkLog.DEFAULT_SEGMENT_BYTES,
                MarkLog.DEFAULT_MAX_BYTES, ProbMark.SWAP)) {
            AnswerMarker marker = new AnswerMarker(engine, KEY, log, 0.01);
            AnswerMarker.Marking m = marker.mark("alice", Queries.ofBytes(q, n, D), p.clone(), C,
                    AnswerKind.PROBABILITIES);
            int changed = 0;
            int controls = 0;
            float largestLogged = 0;
            float smallestPlain = Float.MAX_VALUE;
            for (int i = 0; i < n; i++) {
                int[] tt = topTwo(p, i);
                float margin = p[i * C + tt[0]] - p[i * C + tt[1]];
                float[] expected = java.util.Arrays.copyOfRange(p, i * C, i * C + C);
                AnswerMarker.Outcome o = m.outcomes()[i];
                if (o == AnswerMarker.Outcome.PLAIN) {
                    smallestPlain = Math.min(smallestPlain, margin);
                } else {
                    largestLogged = Math.max(largestLogged, margin);
                    boolean bit = keyedBit("alice", java.util.Arrays.copyOfRange(q, i * D, i * D + D));
                    assertEquals(bit, o == AnswerMarker.Outcome.MARKED, "query " + i + ": the keyed half is marked");
                }
                if (o == AnswerMarker.Outcome.MARKED) {
                    changed++;
                    expected[tt[0]] = p[i * C + tt[1]];
                    expected[tt[1]] = p[i * C + tt[0]];
                } else if (o == AnswerMarker.Outcome.CONTROL) {
                    controls++;
                }
                assertArrayEquals(expected, java.util.Arrays.copyOfRange(m.served(), i * C, i * C + C), "answer " + i);
            }
            assertTrue(largestLogged <= smallestPlain, "only the least sure queries are logged");
            assertTrue(changed <= 0.01 * n * 1.15 && changed >= 0.01 * n * 0.85, changed + " changed of " + n);
            assertTrue(Math.abs(changed - controls) < 0.25 * (changed + controls), changed + " vs " + controls);
            List<MarkEntry> logged = MarkLog.read(dir.resolve("log"), KEY).answers();
            assertEquals(changed + controls, logged.size());
        }
    }

    @Test
    void theSameQueryGetsTheSameAnswerAcrossBatchesRestartsAndNotAnothersMarks() throws Exception {
        SplittableRandom r = new SplittableRandom(2);
        int n = 4000;
        float[] p = probabilities(r, n);
        byte[] q = bytes(r, n);
        float[] first;
        float[] bob;
        try (MarkLog log = MarkLog.open(dir.resolve("log"), KEY)) {
            AnswerMarker marker = new AnswerMarker(engine, KEY, log, 0.02);
            first = marker.mark("alice", Queries.ofBytes(q, n, D), p, C, AnswerKind.PROBABILITIES).served();
            bob = marker.mark("bob", Queries.ofBytes(q, n, D), p, C, AnswerKind.PROBABILITIES).served();
            // Answer the same queries again, a few at a time: the threshold has moved on, the answers must not.
            for (int i = 0; i < 200; i++) {
                float[] one = marker.mark("alice", Queries.ofBytes(java.util.Arrays.copyOfRange(q, i * D, i * D + D), 1,
                        D), java.util.Arrays.copyOfRange(p, i * C, i * C + C), C, AnswerKind.PROBABILITIES).served();
                assertArrayEquals(java.util.Arrays.copyOfRange(first, i * C, i * C + C), one, "query " + i);
            }
        }
        assertNotEquals(java.util.Arrays.toString(first), java.util.Arrays.toString(bob),
                "each client's marks are its own");
        try (MarkLog log = MarkLog.open(dir.resolve("log"), KEY)) {
            AnswerMarker fresh = new AnswerMarker(engine, KEY, log, 0.02);
            float[] again = fresh.mark("alice", Queries.ofBytes(q, n, D), p, C, AnswerKind.PROBABILITIES).served();
            for (int i = 0; i < n; i++) {
                if (!java.util.Arrays.equals(first, i * C, i * C + C, p, i * C, i * C + C)) {
                    assertArrayEquals(java.util.Arrays.copyOfRange(first, i * C, i * C + C),
                            java.util.Arrays.copyOfRange(again, i * C, i * C + C), "marked query " + i
                                    + " after a restart");
                }
            }
        }
    }

    @Test
    void logitsAreMarkedBySwappingTheTopTwoScores() throws Exception {
        SplittableRandom r = new SplittableRandom(3);
        int n = 2000;
        float[] z = new float[n * C];
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) (4 * r.nextGaussian());
        }
        byte[] q = bytes(r, n);
        try (MarkLog log = MarkLog.open(dir.resolve("log"), KEY, MarkLog.DEFAULT_SEGMENT_BYTES,
                MarkLog.DEFAULT_MAX_BYTES, ProbMark.SWAP)) {
            AnswerMarker.Marking m = new AnswerMarker(engine, KEY, log, 0.05).mark("c", Queries.ofBytes(q, n, D), z, C,
                    AnswerKind.LOGITS);
            int marked = 0;
            for (int i = 0; i < n; i++) {
                if (m.outcomes()[i] == AnswerMarker.Outcome.MARKED) {
                    marked++;
                    int[] tt = topTwo(z, i);
                    assertEquals(tt[1], topTwo(m.served(), i)[0], "the runner-up is served on top");
                    assertEquals(tt[0], topTwo(m.served(), i)[1]);
                }
            }
            assertTrue(marked > 0);
        }
    }

    @Test
    void badAnswersAreRefusedAndNothingIsLogged() throws Exception {
        SplittableRandom r = new SplittableRandom(4);
        int n = 1000;
        float[] p = probabilities(r, n);
        byte[] q = bytes(r, n);
        try (MarkLog log = MarkLog.open(dir.resolve("log"), KEY)) {
            AnswerMarker marker = new AnswerMarker(engine, KEY, log, 0.01);
            Queries queries = Queries.ofBytes(q, n, D);
            InvalidInputException lengths = assertThrows(InvalidInputException.class,
                    () -> marker.mark("a", queries, java.util.Arrays.copyOf(p, (n - 1) * C), C,
                            AnswerKind.PROBABILITIES));
            assertTrue(lengths.getMessage().contains("1000 queries"), lengths.getMessage());
            float[] nan = p.clone();
            nan[5 * C + 3] = Float.NaN;
            assertTrue(assertThrows(InvalidInputException.class, () -> marker.mark("a", queries, nan, C,
                    AnswerKind.PROBABILITIES)).getMessage().contains("answer 5"));
            float[] unnormalised = p.clone();
            unnormalised[7 * C] += 0.5f;
            assertTrue(assertThrows(InvalidInputException.class, () -> marker.mark("a", queries, unnormalised, C,
                    AnswerKind.PROBABILITIES)).getMessage().contains("sum to"));
            float[] before = p.clone();
            marker.mark("a", queries, p, C, AnswerKind.PROBABILITIES);
            assertArrayEquals(before, p, "the caller's answers are not changed");
        }
        // Only the good batch was logged.
        List<MarkEntry> logged = MarkLog.read(dir.resolve("log"), KEY).answers();
        assertTrue(logged.size() > 0 && logged.size() <= 0.02 * n + 2, logged.size() + " logged");
        assertTrue(logged.stream().allMatch(e -> e.client().equals("a")));
        assertEquals(HexFormat.of().formatHex(new byte[0]), "");
    }

    /** A direct native-order copy of the values, as float32 rows. */
    static Tensor rows(float[] v, int n) {
        FloatBuffer b = ByteBuffer.allocateDirect(v.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        b.put(v).flip();
        return Tensor.rows(b, n, C);
    }

    static float[] values(FloatBuffer b) {
        float[] v = new float[b.remaining()];
        b.duplicate().get(v);
        return v;
    }

    @Test
    void answersInATensorAreMarkedAsTheArrayFormMarksThem() throws Exception {
        SplittableRandom r = new SplittableRandom(5);
        int n = 3000;
        float[] p = probabilities(r, n);
        byte[] q = bytes(r, n);
        Queries queries = Queries.ofBytes(q, n, D);
        AnswerMarker.Marking expected;
        try (MarkLog log = MarkLog.open(dir.resolve("array"), KEY)) {
            expected = new AnswerMarker(engine, KEY, log, 0.02).mark("acme", queries, p, C, AnswerKind.PROBABILITIES);
        }
        assertTrue(expected.changed() > 0);
        FloatBuffer in = ByteBuffer.allocateDirect(p.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        in.put(p).flip();
        FloatBuffer out = ByteBuffer.allocateDirect(p.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        try (MarkLog log = MarkLog.open(dir.resolve("tensor"), KEY)) {
            AnswerMarker marker = new AnswerMarker(engine, KEY, log, 0.02);
            AnswerMarker.Marking m = marker.mark("acme", queries, Tensor.rows(in, n, C), Tensor.rows(out, n, C),
                    AnswerKind.PROBABILITIES);
            assertArrayEquals(expected.outcomes(), m.outcomes());
            assertEquals(expected.threshold(), m.threshold());
            assertArrayEquals(expected.served(), m.served());
            assertArrayEquals(expected.served(), values(out), "the served tensor holds the served answers");
            assertArrayEquals(p, values(in), "the answers' tensor is not changed");

            // In place: the same tensor as answers and served; the second batch replays the first's decisions.
            FloatBuffer inPlace = ByteBuffer.allocateDirect(p.length * 4).order(ByteOrder.nativeOrder())
                    .asFloatBuffer();
            inPlace.put(p).flip();
            Tensor both = Tensor.rows(inPlace, n, C);
            AnswerMarker.Marking again = marker.mark("acme", queries, both, both, AnswerKind.PROBABILITIES);
            assertArrayEquals(expected.outcomes(), again.outcomes());
            assertArrayEquals(expected.served(), values(inPlace));

            // Refused, naming the problem, with nothing logged and nothing written.
            long entries = MarkLog.read(dir.resolve("tensor"), KEY).answers().size();
            float[] nan = p.clone();
            nan[9 * C + 2] = Float.NaN;
            FloatBuffer untouched = ByteBuffer.allocateDirect(p.length * 4).order(ByteOrder.nativeOrder())
                    .asFloatBuffer();
            Tensor target = Tensor.rows(untouched, n, C);
            assertTrue(assertThrows(InvalidInputException.class, () -> marker.mark("acme", queries, rows(nan, n),
                    target, AnswerKind.PROBABILITIES)).getMessage().contains("answer 9"));
            Tensor device = Tensor.onDevice(1 << 20, dev.dyepack.DType.FLOAT32, dev.dyepack.Layout.NHWC, n, 1, 1, C);
            String onCpu = assertThrows(dev.dyepack.InvalidArgumentException.class, () -> marker.mark("acme", queries,
                    device, target, AnswerKind.PROBABILITIES)).getMessage();
            assertTrue(onCpu.contains("device memory") && onCpu.contains("CUDA engine"), onCpu);
            String servedOnCpu = assertThrows(dev.dyepack.InvalidArgumentException.class, () -> marker.mark("acme",
                    queries, rows(p, n), device, AnswerKind.PROBABILITIES)).getMessage();
            assertTrue(servedOnCpu.startsWith("served are in device memory"), servedOnCpu);
            FloatBuffer shared = ByteBuffer.allocateDirect((p.length + C) * 4).order(ByteOrder.nativeOrder())
                    .asFloatBuffer();
            shared.put(p).flip();
            Tensor first = Tensor.rows(shared.duplicate().position(0).limit(p.length).slice(), n, C);
            Tensor shifted = Tensor.rows(shared.duplicate().position(C).limit(p.length + C).slice(), n, C);
            assertTrue(assertThrows(dev.dyepack.InvalidArgumentException.class, () -> marker.mark("acme", queries,
                    first, shifted, AnswerKind.PROBABILITIES)).getMessage().contains("overlaps"));
            assertTrue(assertThrows(dev.dyepack.InvalidArgumentException.class, () -> marker.mark("acme", queries,
                    rows(p, n), rows(java.util.Arrays.copyOf(p, (n - 1) * C), n - 1), AnswerKind.PROBABILITIES))
                    .getMessage().contains("shape"));
            assertArrayEquals(new float[p.length], values(untouched), "nothing written on a refusal");
            assertEquals(entries, MarkLog.read(dir.resolve("tensor"), KEY).answers().size());
        }
        assertEquals(MarkLog.read(dir.resolve("array"), KEY).answers().stream().map(MarkEntry::digest).toList(),
                MarkLog.read(dir.resolve("tensor"), KEY).answers().stream().map(MarkEntry::digest).toList());
    }

    @Test
    void identityHeadsAreKeptPerClassCountBoundedAndReleasedOnClose() throws Exception {
        SplittableRandom r = new SplittableRandom(6);
        int n = 40;
        byte[] q = bytes(r, n);
        try (Engine own = Engine.open(Backend.CPU); MarkLog log = MarkLog.open(dir.resolve("log"), KEY)) {
            AnswerMarker marker = new AnswerMarker(own, KEY, log, 0.01);
            int[] counts = {2, 3, 4, 5, 6, 3, 3};
            for (int classes : counts) {
                float[] p = RandomAnswers.probabilities(r, n, classes, 3);
                AnswerMarker.Marking m = marker.mark("a", Queries.ofBytes(q, n, D), p, classes,
                        AnswerKind.PROBABILITIES);
                for (int i = 0; i < n; i++) {
                    int top = 0;
                    for (int c = 1; c < classes; c++) {
                        top = p[i * classes + c] > p[i * classes + top] ? c : top;
                    }
                    assertEquals(top, m.top()[i], classes + " classes, answer " + i);
                }
            }
            // Five class counts seen, the four most recent kept: a weight and a bias each.
            assertEquals(2 * AnswerMarker.HEADS_KEPT, own.residentOperands());
            marker.close();
            assertEquals(0, own.residentOperands(), "close releases every head");
            assertThrows(IllegalStateException.class, () -> marker.mark("a", Queries.ofBytes(q, n, D),
                    RandomAnswers.probabilities(r, n, 3, 3), 3, AnswerKind.PROBABILITIES));
            marker.close();
        }
    }
}
