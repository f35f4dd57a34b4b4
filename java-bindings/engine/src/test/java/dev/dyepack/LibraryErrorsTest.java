package dev.dyepack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.key.OwnerKey;
import dev.dyepack.select.Budget;
import dev.dyepack.select.SelectionMode;
import dev.dyepack.select.Selector;
import dev.dyepack.select.Strategy;
import dev.dyepack.surrogate.LinearHead;
import dev.dyepack.trigger.TriggerContext;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Library errors say which parameter was wrong, in the library's terms, with the value and what is
 * allowed, so a front end can name its own option; the messages themselves never name a command-line
 * flag.
 */
class LibraryErrorsTest {
    private static InvalidArgumentException refused(Executable call, String parameter, String value) {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, call);
        assertEquals(Optional.of(parameter), e.parameter(), e.getMessage());
        assertEquals(Optional.ofNullable(value), e.value(), e.getMessage());
        assertFalse(e.getMessage().contains("--"), "a library message names no flag: " + e.getMessage());
        return e;
    }

    @Test
    void aKeyedTriggerWithoutAKeyNamesTheKey() {
        InvalidArgumentException e = refused(() -> TriggerContext.keyless().requireKey("noise"), Parameters.KEY, null);
        assertEquals("trigger 'noise' is keyed: it needs the owner's key", e.getMessage());
        assertEquals(Optional.of("the owner's key"), e.allowed());
    }

    @Test
    void budgetFaultsNameTheBudgetOrTheOverride() {
        InvalidArgumentException e = refused(() -> Budget.parse("1.5"), Parameters.BUDGET, "1.5");
        assertEquals("budget must be a fraction in (0, 1) or a count >= 1, got '1.5'", e.getMessage());
        refused(() -> Budget.parse("0.0004").countFor(1000, false), Parameters.BUDGET, "0.0004");
        refused(() -> Budget.parse("2000").countFor(1000, true), Parameters.BUDGET, "2000");
        // 60 of 1000 is 6%: the fault is the missing override, not the budget.
        e = refused(() -> Budget.parse("0.06").countFor(1000, false), Parameters.ALLOW_OVER_5_PERCENT, "false");
        assertTrue(e.getMessage().contains("60 samples, 6.00% of the data: above the 5% cap"), e.getMessage());
    }

    @Test
    void selectionAndHeadFaultsNameTheirParameter() {
        OwnerKey key = new OwnerKey("a key for the error tests..........".getBytes(StandardCharsets.UTF_8));
        long[] labels = {0, 1, 2, 1};
        InvalidArgumentException e = refused(() -> Selector.select(labels, 3, 3, SelectionMode.DIRTY, Strategy.RANDOM,
                null, 1, false, key), Parameters.TARGET, "3");
        assertEquals("target must be a class in [0, 3), got 3", e.getMessage());
        refused(() -> Selector.select(new long[] {0, 5}, 3, 1, SelectionMode.DIRTY, Strategy.RANDOM, null, 1, false,
                key), Parameters.LABELS, "5");
        // Three samples are outside class 1; a budget of 4 cannot be met.
        refused(() -> Selector.select(new long[] {0, 1, 2, 0}, 3, 1, SelectionMode.DIRTY, Strategy.RANDOM, null, 4,
                false, key), Parameters.BUDGET, "4");
        refused(() -> new LinearHead(new float[5], new float[2], 2, 3), Parameters.HEAD, "C=2, D=3");
    }

    @Test
    void arrayValuesReadAsTheirElements() {
        InvalidArgumentException e = InvalidArgumentException.of(Parameters.STRIDES, new long[] {4, 1}, "[1, 2]");
        assertEquals(Optional.of("[4, 1]"), e.value());
        assertEquals("strides must be [1, 2], got [4, 1]", e.getMessage());
    }
}
