package dev.dyepack.mark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.Backend;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.key.OwnerKey;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shifted mark: what a marked answer looks like, and that it changes the same answers as the swap. */
class ProbMarkTest {
    private static final int C = 10;
    private static final int D = 16;
    private static final OwnerKey KEY = new OwnerKey("prob mark test key of 32 bytes!!".getBytes(StandardCharsets.UTF_8));
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

    private static float[] probabilities(SplittableRandom r, int n) {
        return RandomAnswers.probabilities(r, n, C, 2);
    }

    /** The top class and the runner-up, by a plain scan (ties: the lower class first). */
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

    private static MarkLog log(Path d, ProbMark mark) throws java.io.IOException {
        return MarkLog.open(d, KEY, MarkLog.DEFAULT_SEGMENT_BYTES, MarkLog.DEFAULT_MAX_BYTES, mark);
    }

    @Test
    void parsesTheDocumentedFormsAndRefusesOthers() {
        assertEquals(ProbMark.SWAP, ProbMark.parse("swap"));
        assertEquals(new ProbMark(ProbMark.Mode.SHIFT, 0.5), ProbMark.parse("shift"));
        assertEquals(new ProbMark(ProbMark.Mode.SHIFT, 0.3), ProbMark.parse("shift:0.3"));
        assertEquals("shift:0.3", ProbMark.parse("shift:0.3").toString());
        assertEquals(ProbMark.DEFAULT, ProbMark.parse(ProbMark.DEFAULT.toString()));
        for (String bad : new String[] {"shift:0", "shift:1", "shift:1.5", "shift:-0.2", "shift:NaN", "shift:x",
            "swap:0.2", "", "rotate"}) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> ProbMark.parse(bad), bad);
            assertTrue(e.getMessage().contains("shift") || e.getMessage().contains("margin"), e.getMessage());
        }
    }

    @Test
    void aShiftedRowHasTheRunnerUpLeadingByTheMarginAndEverythingElseAsItWas() {
        // Worked by hand: top 0.40, runner-up 0.35, margin 0.5: the pair's 0.75 is split 0.625 / 0.125.
        double[] row = {0.10, 0.40, 0.35, 0.15};
        new ProbMark(ProbMark.Mode.SHIFT, 0.5).apply(row, 0, 4, 1, 2, AnswerKind.PROBABILITIES);
        assertArrayEquals(new double[] {0.10, 0.125, 0.625, 0.15}, row, 1e-12);
        // A pair lighter than the margin goes wholly to the runner-up.
        double[] flat = {0.30, 0.12, 0.10, 0.28, 0.20};
        new ProbMark(ProbMark.Mode.SHIFT, 0.5).apply(flat, 0, 5, 1, 2, AnswerKind.PROBABILITIES);
        assertArrayEquals(new double[] {0.30, 0.0, 0.22, 0.28, 0.20}, flat, 1e-12);
        // A swap exchanges the two, in a row that is not the first of its array.
        double[] two = {0.9, 0.1, 0.2, 0.5, 0.3};
        ProbMark.SWAP.apply(two, 2, 3, 1, 2, AnswerKind.PROBABILITIES);
        assertArrayEquals(new double[] {0.9, 0.1, 0.2, 0.3, 0.5}, two, 0);
        assertThrows(InvalidArgumentException.class, () -> ProbMark.DEFAULT.apply(new double[3], 0, 3, 1, 1,
                AnswerKind.PROBABILITIES));
    }

    @Test
    void shiftedLogitsHaveTheShiftedSoftmax() {
        double[] z = {1.0, 3.0, 2.8, -1.0, 0.5};
        double[] p = softmax(z);
        double[] served = z.clone();
        new ProbMark(ProbMark.Mode.SHIFT, 0.4).apply(served, 0, 5, 1, 2, AnswerKind.LOGITS);
        double[] q = softmax(served);
        assertEquals(0.4, q[2] - q[1], 1e-9, "the runner-up leads by the margin in the softmax");
        assertEquals(p[1] + p[2], q[1] + q[2], 1e-9, "the pair keeps its mass");
        for (int c : new int[] {0, 3, 4}) {
            assertEquals(z[c], served[c], 0, "logit " + c + " unchanged");
            assertEquals(p[c], q[c], 1e-12, "probability " + c + " unchanged");
        }
        // A pair lighter than the margin: the old top keeps a finite logit and the runner-up nearly all the pair.
        double[] wide = {5.0, 0.1, 0.0, 5.0, 5.0};
        double pair = softmax(wide)[1] + softmax(wide)[2];
        new ProbMark(ProbMark.Mode.SHIFT, 0.5).apply(wide, 0, 5, 1, 2, AnswerKind.LOGITS);
        assertTrue(Double.isFinite(wide[1]) && wide[2] > wide[1], Arrays.toString(wide));
        assertEquals(pair * (1 - ProbMark.LOGIT_FLOOR), softmax(wide)[2], 1e-12);
    }

    private static double[] softmax(double[] z) {
        double max = Arrays.stream(z).max().orElseThrow();
        double[] e = Arrays.stream(z).map(v -> Math.exp(v - max)).toArray();
        double s = Arrays.stream(e).sum();
        return Arrays.stream(e).map(v -> v / s).toArray();
    }

    @Test
    void theMarkerShiftsTheSameAnswersTheSwapWouldChangeAndKeepsEveryRowARow() throws Exception {
        SplittableRandom r = new SplittableRandom(11);
        int n = 20_000;
        float[] p = probabilities(r, n);
        byte[] q = new byte[n * D];
        r.nextBytes(q);
        AnswerMarker.Marking shift;
        AnswerMarker.Marking swap;
        try (MarkLog log = log(dir.resolve("shift"), ProbMark.DEFAULT)) {
            shift = new AnswerMarker(engine, KEY, log, 0.01).mark("alice", Queries.ofBytes(q, n, D), p, C,
                    AnswerKind.PROBABILITIES);
        }
        try (MarkLog log = log(dir.resolve("swap"), ProbMark.SWAP)) {
            swap = new AnswerMarker(engine, KEY, log, 0.01).mark("alice", Queries.ofBytes(q, n, D), p, C,
                    AnswerKind.PROBABILITIES);
        }
        assertArrayEquals(swap.outcomes(), shift.outcomes(), "the same answers are marked and kept as controls");
        int changed = 0;
        for (int i = 0; i < n; i++) {
            float[] before = Arrays.copyOfRange(p, i * C, i * C + C);
            float[] after = Arrays.copyOfRange(shift.served(), i * C, i * C + C);
            if (shift.outcomes()[i] != AnswerMarker.Outcome.MARKED) {
                assertArrayEquals(before, after, "answer " + i + " is served unchanged");
                continue;
            }
            changed++;
            int[] tt = topTwo(p, i);
            double sumBefore = 0;
            double sumAfter = 0;
            for (int c = 0; c < C; c++) {
                sumBefore += before[c];
                sumAfter += after[c];
                if (c != tt[0] && c != tt[1]) {
                    assertEquals(before[c], after[c], 0, "answer " + i + ", class " + c + " unchanged");
                }
            }
            assertEquals(sumBefore, sumAfter, 1e-6, "answer " + i + " still sums to what it did");
            assertEquals(tt[1], topTwo(shift.served(), i)[0], "answer " + i + ": the runner-up is served on top");
            double pair = before[tt[0]] + before[tt[1]];
            double lead = after[tt[1]] - after[tt[0]];
            assertEquals(Math.min(pair, ProbMark.DEFAULT_MARGIN), lead, 1e-6, "answer " + i + "'s lead");
            assertTrue(after[tt[0]] >= 0, "answer " + i + " stays non-negative");
        }
        assertEquals(swap.changed(), changed);
        assertTrue(changed >= 0.0085 * n && changed <= 0.0115 * n, changed + " changed of " + n + " at a 1% budget");
    }

    @Test
    void theShiftIsKeyedPerClientAndRepeatsAcrossBatchesAndRestarts() throws Exception {
        SplittableRandom r = new SplittableRandom(12);
        int n = 3000;
        float[] p = probabilities(r, n);
        byte[] q = new byte[n * D];
        r.nextBytes(q);
        float[] alice;
        float[] bob;
        try (MarkLog log = log(dir.resolve("log"), ProbMark.DEFAULT)) {
            AnswerMarker marker = new AnswerMarker(engine, KEY, log, 0.02);
            alice = marker.mark("alice", Queries.ofBytes(q, n, D), p, C, AnswerKind.PROBABILITIES).served();
            bob = marker.mark("bob", Queries.ofBytes(q, n, D), p, C, AnswerKind.PROBABILITIES).served();
            float[] again = marker.mark("alice", Queries.ofBytes(q, n, D), p, C, AnswerKind.PROBABILITIES).served();
            assertArrayEquals(alice, again, "the same queries, the same answers");
        }
        assertNotEquals(Arrays.toString(alice), Arrays.toString(bob), "each client's marks are its own");
        try (MarkLog log = log(dir.resolve("log"), ProbMark.DEFAULT)) {
            float[] after = new AnswerMarker(engine, KEY, log, 0.02).mark("alice", Queries.ofBytes(q, n, D), p, C,
                    AnswerKind.PROBABILITIES).served();
            for (int i = 0; i < n; i++) {
                if (!Arrays.equals(alice, i * C, i * C + C, p, i * C, i * C + C)) {
                    assertArrayEquals(Arrays.copyOfRange(alice, i * C, i * C + C),
                            Arrays.copyOfRange(after, i * C, i * C + C), "marked answer " + i + " after a restart");
                }
            }
        }
    }

    @Test
    void logitsAreShiftedInTheirSoftmax() throws Exception {
        SplittableRandom r = new SplittableRandom(13);
        int n = 2000;
        float[] z = new float[n * C];
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) (3 * r.nextGaussian());
        }
        byte[] q = new byte[n * D];
        r.nextBytes(q);
        try (MarkLog log = log(dir.resolve("log"), ProbMark.DEFAULT)) {
            AnswerMarker.Marking m = new AnswerMarker(engine, KEY, log, 0.05).mark("c", Queries.ofBytes(q, n, D), z,
                    C, AnswerKind.LOGITS);
            int marked = 0;
            for (int i = 0; i < n; i++) {
                if (m.outcomes()[i] != AnswerMarker.Outcome.MARKED) {
                    continue;
                }
                marked++;
                int[] tt = topTwo(z, i);
                double[] before = new double[C];
                double[] after = new double[C];
                for (int c = 0; c < C; c++) {
                    before[c] = z[i * C + c];
                    after[c] = m.served()[i * C + c];
                }
                double[] pb = softmax(before);
                double[] pa = softmax(after);
                assertEquals(tt[1], topTwo(m.served(), i)[0], "the runner-up is served on top");
                assertEquals(Math.min(0.5, (pb[tt[0]] + pb[tt[1]]) * (1 - 2 * ProbMark.LOGIT_FLOOR)),
                        pa[tt[1]] - pa[tt[0]], 1e-5, "answer " + i + ": the lead in the softmax");
                for (int c = 0; c < C; c++) {
                    if (c != tt[0] && c != tt[1]) {
                        assertEquals(before[c], after[c], 0, "logit " + c + " of answer " + i);
                    }
                }
            }
            assertTrue(marked > 0);
        }
    }

    @Test
    void badRowsAreRefusedUnderAShiftWithNothingLogged() throws Exception {
        SplittableRandom r = new SplittableRandom(14);
        int n = 1000;
        float[] p = probabilities(r, n);
        byte[] q = new byte[n * D];
        r.nextBytes(q);
        try (MarkLog log = log(dir.resolve("log"), ProbMark.DEFAULT)) {
            AnswerMarker marker = new AnswerMarker(engine, KEY, log, 0.01);
            Queries queries = Queries.ofBytes(q, n, D);
            float[] nan = p.clone();
            nan[9 * C + 2] = Float.NaN;
            assertTrue(assertThrows(InvalidInputException.class, () -> marker.mark("a", queries, nan, C,
                    AnswerKind.PROBABILITIES)).getMessage().contains("answer 9"));
            float[] infinite = p.clone();
            infinite[4 * C] = Float.POSITIVE_INFINITY;
            assertTrue(assertThrows(InvalidInputException.class, () -> marker.mark("a", queries, infinite, C,
                    AnswerKind.LOGITS)).getMessage().contains("answer 4"));
            float[] heavy = p.clone();
            heavy[3 * C + 1] += 0.2f;
            assertTrue(assertThrows(InvalidInputException.class, () -> marker.mark("a", queries, heavy, C,
                    AnswerKind.PROBABILITIES)).getMessage().contains("sum to"));
        }
        assertEquals(List.of(), MarkLog.read(dir.resolve("log"), KEY).answers());
    }

    @Test
    void theLogRecordsEachSegmentsMarkAndBeginsASegmentWhenTheMarkChanges() throws Exception {
        SplittableRandom r = new SplittableRandom(15);
        int n = 2000;
        float[] p = probabilities(r, n);
        byte[] q = new byte[n * D];
        r.nextBytes(q);
        Path d = dir.resolve("log");
        int first;
        try (MarkLog log = log(d, ProbMark.SWAP)) {
            first = new AnswerMarker(engine, KEY, log, 0.02).mark("a", Queries.ofBytes(q, n, D), p, C,
                    AnswerKind.PROBABILITIES).logged().length;
        }
        try (MarkLog log = log(d, ProbMark.SWAP)) {
            assertEquals(ProbMark.SWAP, log.mark());
        }
        assertEquals(1, MarkLog.read(d, KEY).segments(), "the same mark continues its segment");
        byte[] q2 = new byte[n * D];
        r.nextBytes(q2);
        ProbMark shift = ProbMark.parse("shift:0.3");
        try (MarkLog log = log(d, shift)) {
            new AnswerMarker(engine, KEY, log, 0.02).mark("a", Queries.ofBytes(q2, n, D), p, C,
                    AnswerKind.PROBABILITIES);
        }
        MarkLog.Contents c = MarkLog.read(d, KEY);
        assertEquals(2, c.segments(), "another mark begins a segment");
        List<String> one = Files.readAllLines(d.resolve("marks-000001.log"));
        List<String> two = Files.readAllLines(d.resolve("marks-000002.log"));
        assertTrue(one.get(0).contains("\"mark\":\"swap\""), one.get(0));
        assertTrue(one.get(one.size() - 1).contains("\"type\":\"seal\""), "the first segment is sealed");
        assertTrue(two.get(0).contains("\"mark\":\"shift:0.3\""), two.get(0));
        assertTrue(first > 0 && c.answers().size() > first);
        for (MarkEntry e : c.answers()) {
            assertEquals(e.seq() < first ? ProbMark.SWAP : shift, c.markOf(e.seq()), "answer " + e.seq());
        }
    }
}
