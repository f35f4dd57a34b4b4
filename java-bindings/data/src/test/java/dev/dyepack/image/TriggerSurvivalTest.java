package dev.dyepack.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.dyepack.InvalidArgumentException;
import org.junit.jupiter.api.Test;

class TriggerSurvivalTest {
    private static byte[] b(int... v) {
        byte[] out = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (byte) v[i];
        }
        return out;
    }

    @Test
    void sharesOfHandComputedCases() {
        byte[] clean = b(100, 100, 100, 100);
        byte[] intended = b(140, 100, 60, 100); // trigger (40, 0, -40, 0), energy 3200
        TriggerSurvival s = new TriggerSurvival();
        assertEquals(1.0, s.add(clean, intended, intended), 1e-12);
        assertEquals(0.0, s.add(clean, intended, clean), 1e-12);
        // Half the amplitude: a = 0.5, energy share 0.25.
        assertEquals(0.25, s.add(clean, intended, b(120, 100, 80, 100)), 1e-12);
        // Noise orthogonal to the trigger does not count: (40, 9, -40, -9) projects to a = 1.
        assertEquals(1.0, s.add(clean, intended, b(140, 109, 60, 91)), 1e-12);
        // Pooled: a = (3200 + 0 + 1600 + 3200) / (4 * 3200) = 0.625.
        assertEquals(0.625 * 0.625, s.retained(), 1e-12);
        assertEquals(0.0, s.lowest(), 1e-12);
        assertEquals(4, s.images());
        // No trigger at all counts as fully kept.
        assertEquals(1.0, new TriggerSurvival().add(clean, clean, intended), 1e-12);
        assertThrows(InvalidArgumentException.class, () -> s.add(clean, b(1), clean));
    }
}
