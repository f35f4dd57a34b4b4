package dev.dyepack.trigger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Trigger parameters print the same on every JDK: the shortest round-trip text of JDK 19 and later. */
class SpecNumberTest {

    /** Expected texts are what {@code Float.toString} prints on JDK 25 (JDK 17 prints the first three longer). */
    @ParameterizedTest
    @CsvSource({"1.3008066E17", "-1.600438E8", "1.1754944E-38", "1.4E-45", "3.4028235E38", "0.1", "0.33333334",
        "123456.7", "1.0E-5", "9.999999E-4", "0.001", "1.0E7", "2.5E-44"})
    void printsAsJdk25Does(String text) {
        float v = Float.parseFloat(text);
        assertEquals(text, SpecFormat.shortest(v));
    }

    @Test
    void everyPrintedValueReadsBackAndIsNoLongerThanTheJdksText() {
        Random r = new Random(7);
        for (int i = 0; i < 200_000; i++) {
            float v = Float.intBitsToFloat(r.nextInt());
            if (!Float.isFinite(v)) {
                continue;
            }
            String s = SpecFormat.shortest(v);
            assertEquals(Float.floatToIntBits(v), Float.floatToIntBits(Float.parseFloat(s)), s);
            assertTrue(s.length() <= Float.toString(v).length(), s + " vs " + Float.toString(v));
        }
    }
}
