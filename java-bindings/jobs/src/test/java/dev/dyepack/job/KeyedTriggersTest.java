package dev.dyepack.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.dyepack.Backend;
import dev.dyepack.DType;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerSpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Triggers under many keys prepared ahead of a chunked stream stamp what one trigger application per key
 * over the whole array stamps, however far ahead the preparing thread may run (so also when the stamping
 * thread prepares keys itself) and whether a key's rows lie in one chunk or in many.
 */
class KeyedTriggersTest {
    private static final int N = 60;
    private static final int C = 3;
    private static final int H = 6;
    private static final int W = 5;
    private static final int SAMPLE = C * H * W;

    @Test
    void chunkedStampingWithKeysPreparedAheadEqualsOneApplicationPerKey() {
        // Key 0 has rows all over the array (as the owner's); keys 1-4 one or two rows, some far apart.
        long[][] rows = {{0, 9, 13, 27, 41, 59}, {3}, {10, 50}, {12, 14}, {58}, {}};
        for (String spec : new String[] {"sparse:n=7", "blend:alpha=0.3,pattern=noise"}) {
            for (int ahead : new int[] {1, 2, 8}) {
                for (int chunk : new int[] {1, 7, N}) {
                    assertArrayEquals(reference(spec, rows), streamed(spec, rows, ahead, chunk),
                            spec + ", " + ahead + " ahead, chunks of " + chunk);
                }
            }
        }
    }

    @Test
    void aTriggerThatDoesNotFitFailsOnTheStampingThread() throws Exception {
        // A patch larger than the image: preparing fails; the stamping thread meets the failure itself.
        TriggerSpec t = TriggerSpec.parse("patch:size=9,pos=br,value=255");
        try (Engine engine = Engine.open(Backend.CPU);
                KeyedTriggers k = new KeyedTriggers(engine, t, Tensor.empty(DType.UINT8, Layout.NHWC, C, H, W),
                        keys(1), new long[][] {{0}}, 2)) {
            assertThrows(InvalidArgumentException.class, () -> k.get(0));
        }
    }

    private static byte[] reference(String spec, long[][] rows) {
        TriggerSpec t = TriggerSpec.parse(spec);
        List<OwnerKey> keys = keys(rows.length);
        ByteBuffer all = data();
        try (Engine engine = Engine.open(Backend.CPU)) {
            for (int s = 0; s < rows.length; s++) {
                if (rows[s].length > 0) {
                    t.apply(engine, Tensor.of(all, Layout.NHWC, N, C, H, W), rows[s], TriggerContext.of(keys.get(s)));
                }
            }
        }
        return bytes(all);
    }

    private static byte[] streamed(String spec, long[][] rows, int ahead, int chunk) {
        TriggerSpec t = TriggerSpec.parse(spec);
        ByteBuffer all = data();
        try (Engine engine = Engine.open(Backend.CPU);
                KeyedTriggers k = new KeyedTriggers(engine, t, Tensor.empty(DType.UINT8, Layout.NHWC, C, H, W),
                        keys(rows.length), rows, ahead)) {
            for (int first = 0; first < N; first += chunk) {
                int count = Math.min(chunk, N - first);
                ByteBuffer view = all.slice(first * SAMPLE, count * SAMPLE);
                for (int s = 0; s < rows.length; s++) {
                    long[] local = rowsIn(rows[s], first, count);
                    if (local.length > 0) {
                        k.get(s).apply(Tensor.of(view, Layout.NHWC, count, C, H, W), local, first);
                    }
                }
                k.passed(first + count);
            }
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        return bytes(all);
    }

    private static long[] rowsIn(long[] rows, int first, int count) {
        return Arrays.stream(rows).filter(r -> r >= first && r < first + count).map(r -> r - first).toArray();
    }

    private static List<OwnerKey> keys(int n) {
        List<OwnerKey> keys = new ArrayList<>();
        for (int s = 0; s < n; s++) {
            keys.add(new OwnerKey(String.format("keyed triggers test key %02d: 32 b", s)
                    .getBytes(StandardCharsets.UTF_8)));
        }
        return keys;
    }

    private static ByteBuffer data() {
        byte[] x = new byte[N * SAMPLE];
        new Random(11).nextBytes(x);
        return ByteBuffer.allocateDirect(x.length).put(x).flip();
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.capacity()];
        b.get(0, out);
        return out;
    }
}
