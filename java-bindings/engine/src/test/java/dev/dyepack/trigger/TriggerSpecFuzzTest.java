package dev.dyepack.trigger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import dev.dyepack.InvalidArgumentException;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * Fuzzing of trigger specs as a user (or a manifest) may write them: every string either parses to a
 * trigger whose printed form parses back to the same, or is refused with
 * {@link InvalidArgumentException}; nothing else escapes. A few seconds.
 */
class TriggerSpecFuzzTest {
    @Provide
    Arbitrary<String> specs() {
        Arbitrary<String> family = Arbitraries.of("patch", "blend", "sig", "lowfreq", "warp", "noise", "tokens",
                "columns", "PATCH", "x", "");
        Arbitrary<String> key = Arbitraries.of("size", "pos", "value", "pattern", "alpha", "delta", "freq", "amp",
                "freqs", "space", "k", "s", "eps", "ids", "pad", "cols", "values", "image", "x", "");
        Arbitrary<String> value = Arbitraries.of("3", "0", "-1", "255", "256", "0.2", "1e9", "NaN", "Infinity", "br",
                "at", "1x2+2x1", "101+2054", "end", "random", "noise", "solid", "\uFF13", "\u0663", "99999999999",
                "3+", "+", "x", "", "1.5+0", "yuv", "2147483648x1", "-0");
        Arbitrary<String> field = Arbitraries.strings().withChars("=,:+x ").ofMaxLength(2)
                .flatMap(sep -> key.flatMap(k -> value.map(v -> k + "=" + v + sep)));
        Arbitrary<String> structured = family.flatMap(f -> field.list().ofMaxSize(5)
                .map(fs -> f + ":" + String.join(",", fs)));
        return Arbitraries.oneOf(structured, Arbitraries.strings().ofMaxLength(60));
    }

    @Property(tries = 1000)
    void specsParseAndPrintBackOrAreRefused(@ForAll("specs") String spec) {
        TriggerSpec t;
        try {
            t = TriggerSpec.parse(spec);
        } catch (InvalidArgumentException expected) {
            return;
        } catch (Throwable e) {
            fail("spec " + spec + ": undocumented " + e, e);
            return;
        }
        assertEquals(t.toString(), TriggerSpec.parse(t.toString()).toString(), spec);
    }

    /** Regression: other scripts' digits are not numbers (Long.parseLong took full-width 3 as 3). */
    @Test
    void onlyAsciiDigitsAreNumbers() {
        assertThrows(InvalidArgumentException.class, () -> TriggerSpec.parse("patch:size=\uFF13"));
        assertThrows(InvalidArgumentException.class, () -> TriggerSpec.parse("tokens:ids=\u0661\u0660\u0661"));
        assertThrows(InvalidArgumentException.class, () -> TriggerSpec.parse("lowfreq:freqs=\uFF11x2"));
        assertEquals(3, ((PatchTrigger) TriggerSpec.parse("patch:size=3")).size());
    }
}
