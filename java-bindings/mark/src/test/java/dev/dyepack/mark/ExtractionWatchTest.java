package dev.dyepack.mark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ExtractionWatchTest {
    private static final int D = 20;

    @Test
    void independentQueriesPassAndSyntheticStepsAroundOwnQueriesAlarmOnce() {
        ExtractionWatch watch = new ExtractionWatch(ExtractionWatch.Settings.DEFAULT);
        SplittableRandom r = new SplittableRandom(3);
        List<float[]> own = new ArrayList<>();
        int benignAlarms = 0;
        int attackAlarms = 0;
        for (int batch = 0; batch < 10; batch++) {
            float[] benign = new float[40 * D];
            for (int i = 0; i < benign.length; i++) {
                benign[i] = (float) r.nextGaussian();
            }
            benignAlarms += watch.observe("benign", Queries.ofFloats(benign, 40, D)).isPresent() ? 1 : 0;
            float[] attack = new float[40 * D];
            for (int i = 0; i < 40; i++) {
                float[] q = new float[D];
                if (own.isEmpty() || i % 8 == 0) {
                    for (int d = 0; d < D; d++) {
                        q[d] = (float) r.nextGaussian();
                    }
                } else {
                    float[] from = own.get(r.nextInt(own.size()));
                    for (int d = 0; d < D; d++) {
                        q[d] = from[d] + (r.nextBoolean() ? 0.02f : -0.02f);
                    }
                }
                own.add(q);
                System.arraycopy(q, 0, attack, i * D, D);
            }
            Optional<ExtractionWatch.Alarm> a = watch.observe("attacker", Queries.ofFloats(attack, 40, D));
            if (a.isPresent()) {
                attackAlarms++;
                assertTrue(a.get().pValue() < 1e-3, a.get().toString());
                assertTrue(a.get().distances() >= 100);
            }
        }
        assertEquals(0, benignAlarms, "independent queries are not alarmed");
        assertEquals(1, attackAlarms, "the attacker is alarmed once");
    }
}
