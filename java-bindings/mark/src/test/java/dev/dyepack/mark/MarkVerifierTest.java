package dev.dyepack.mark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.apache.commons.statistics.distribution.HypergeometricDistribution;
import org.junit.jupiter.api.Test;

class MarkVerifierTest {
    @Test
    void fisherIsTheHypergeometricUpperTail() {
        // 8 of 10 marked and 1 of 10 controls answered with the runner-up: 9 followers among 20 probes.
        double expected = HypergeometricDistribution.of(20, 9, 10).survivalProbability(7);
        assertEquals(expected, MarkVerifier.fisher(new int[] {8, 10, 1, 10}), 1e-12 * expected);
        // No difference at all gives no evidence.
        assertEquals(1.0, MarkVerifier.fisher(new int[] {0, 10, 0, 10}), 1e-12);
        assertEquals(1.0, MarkVerifier.fisher(new int[] {3, 10, 0, 0}), 0);
    }

    @Test
    void holmAdjustsStepDownAndKeepsTheOrder() {
        List<MarkVerdict.ClientTest> raw = List.of(test("a", 0.01), test("b", 0.04), test("c", 0.03), test("d", 0.5));
        List<MarkVerdict.ClientTest> adjusted = MarkVerifier.holm(raw);
        // By hand: sorted 0.01, 0.03, 0.04, 0.5 times 4, 3, 2, 1 = 0.04, 0.09, 0.08, 0.5; running maximum.
        assertEquals(List.of("a", "c", "b", "d"), adjusted.stream().map(MarkVerdict.ClientTest::client).toList());
        double[] want = {0.04, 0.09, 0.09, 0.5};
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], adjusted.get(i).holmPValue(), 1e-12);
        }
    }

    private static MarkVerdict.ClientTest test(String client, double p) {
        return new MarkVerdict.ClientTest(client, 0, 1, 0, 1, p, p);
    }
}
