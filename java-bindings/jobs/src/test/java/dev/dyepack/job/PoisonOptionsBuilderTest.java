package dev.dyepack.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.select.Budget;
import dev.dyepack.select.SelectionMode;
import dev.dyepack.select.Strategy;
import dev.dyepack.trigger.TriggerSpec;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The options both front ends share (files: {@link PoisonJob.Builder}; arrays: {@link Poisoner.Builder})
 * resolve to the same settings and are refused for the same reasons, naming the same parameter.
 */
class PoisonOptionsBuilderTest {
    private static final TriggerSpec BLEND = TriggerSpec.parse("blend:alpha=0.2,pattern=noise");
    private static final TriggerSpec PATCH = TriggerSpec.parse("patch:size=3");

    private static PoisonSettings files(UnaryOperator<PoisonJob.Builder> options) {
        return options.apply(PoisonJob.builder().data(Path.of("data.npy")).labels(Path.of("labels.npy"))
                .outDir(Path.of("out"))).build();
    }

    private static PoisonSettings arrays(UnaryOperator<Poisoner.Builder> options) {
        return options.apply(Poisoner.builder()).build();
    }

    @Test
    void theSameOptionsResolveTheSameWayInBothFrontEnds() {
        // Expected values written from the documented rules, not read from either builder.
        PoisonSettings f = files(b -> b.trigger(BLEND).target(3));
        PoisonSettings a = arrays(b -> b.trigger(BLEND).target(3));
        for (PoisonSettings s : new PoisonSettings[] {f, a}) {
            assertEquals(Strategy.BOUNDARY_FAR, s.strategy()); // AUTO, dirty-label
            assertEquals(true, s.stratified());                // AUTO always spreads the budget
            assertEquals(PoisonJob.Surrogate.LINEAR, s.surrogate());
            assertEquals(PoisonJob.DEFAULT_NEGATIVES, s.negatives()); // keyed image trigger
            assertEquals(Budget.parse(Budget.DEFAULT), s.budget());
            assertEquals(3, s.target());
        }
        PoisonSettings fc = files(b -> b.trigger(PATCH).mode(SelectionMode.CLEAN).strategy(Strategy.RANDOM));
        PoisonSettings ac = arrays(b -> b.trigger(PATCH).mode(SelectionMode.CLEAN).strategy(Strategy.RANDOM));
        for (PoisonSettings s : new PoisonSettings[] {fc, ac}) {
            assertEquals(Strategy.RANDOM, s.strategy());
            assertEquals(false, s.stratified());
            assertEquals(PoisonJob.Surrogate.NONE, s.surrogate());
            assertEquals(0.0, s.negatives()); // a solid patch is the same under every key
        }
        // The smooth keyed pattern: AUTO is random selection, still spread over the source classes, and no surrogate
        // (docs/efficacy.md, section 38); clean-label and explicit strategies resolve as for every other family.
        TriggerSpec dct = TriggerSpec.parse("dct");
        for (PoisonSettings s : new PoisonSettings[] {files(b -> b.trigger(dct)), arrays(b -> b.trigger(dct))}) {
            assertEquals(Strategy.RANDOM, s.strategy());
            assertEquals(true, s.stratified());
            assertEquals(PoisonJob.Surrogate.NONE, s.surrogate());
            assertEquals(PoisonJob.DEFAULT_NEGATIVES, s.negatives());
        }
        assertEquals(Strategy.BOUNDARY, files(b -> b.trigger(dct).mode(SelectionMode.CLEAN)).strategy());
        assertEquals(Strategy.BOUNDARY_FAR, arrays(b -> b.trigger(dct).strategy(Strategy.BOUNDARY_FAR)).strategy());
    }

    @Test
    void badOptionsAreRefusedNamingTheSameParameterInBothFrontEnds() {
        record Bad(String parameter, UnaryOperator<PoisonOptionsBuilder<?>> options) {}
        Bad[] bad = {
            new Bad("trigger", b -> b.target(1)),
            new Bad("target", b -> b.trigger(BLEND).target(-1)),
            new Bad("budget", b -> b.trigger(BLEND).budget(null)),
            new Bad("overrideReason", b -> b.trigger(BLEND).overrideReason("because")),
            new Bad("surrogate", b -> b.trigger(BLEND).strategy(Strategy.RANDOM).surrogate(PoisonJob.Surrogate.LINEAR)),
            new Bad("surrogate", b -> b.trigger(BLEND).strategy(Strategy.BOUNDARY).surrogate(PoisonJob.Surrogate.NONE)),
            new Bad("features", b -> b.trigger(BLEND).surrogate(PoisonJob.Surrogate.FEATURES_HEAD)),
            new Bad("negatives", b -> b.trigger(PATCH).strategy(Strategy.RANDOM).negatives(1)),
            new Bad("negatives", b -> b.trigger(BLEND).strategy(Strategy.RANDOM).negatives(PoisonJob.MAX_NEGATIVES + 1)),
        };
        for (Bad c : bad) {
            InvalidArgumentException f = assertThrows(InvalidArgumentException.class,
                    () -> files(b -> (PoisonJob.Builder) c.options().apply(b)), c.parameter());
            InvalidArgumentException a = assertThrows(InvalidArgumentException.class,
                    () -> arrays(b -> (Poisoner.Builder) c.options().apply(b)), c.parameter());
            assertEquals(Optional.of(c.parameter()), f.parameter(), f.getMessage());
            assertEquals(Optional.of(c.parameter()), a.parameter(), a.getMessage());
        }
    }
}
