package dev.dyepack.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.Backend;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.io.Npy;
import dev.dyepack.io.NpyWriter;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.ManifestReader;
import dev.dyepack.select.Budget;
import dev.dyepack.select.SelectionMode;
import dev.dyepack.trigger.TriggerSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clean-label poisoning with the label-consistent push: the chosen target-class samples move by at
 * most eps per pixel (by exactly eps where the surrogate's rows differ, unless clamped) before the
 * trigger is stamped, keep their labels, and nothing else changes. A patch in the top-left corner is
 * the trigger, so the pushed pixels are everything else.
 */
class PoisonCleanPushTest {
    private static final OwnerKey KEY = new OwnerKey("clean push test key: 32 bytes!!!".getBytes(StandardCharsets.UTF_8));
    private static final int N = 300;
    private static final int H = 8;
    private static final int W = 8;
    private static final String PATCH = "patch:size=2,pos=tl,value=255";

    @TempDir
    Path dir;

    private static int label(int i) {
        return i % 3;
    }

    /** Class-dependent stripes plus noise, away from 0 and 255 so that most pushes are not clamped. */
    private static byte[] images() {
        Random rng = new Random(11);
        byte[] x = new byte[N * H * W];
        for (int i = 0; i < N; i++) {
            for (int e = 0; e < H * W; e++) {
                int v = 60 + 40 * ((e / W + label(i) * e) % 3) + rng.nextInt(30);
                x[i * H * W + e] = (byte) v;
            }
        }
        return x;
    }

    private byte[] run(Path x, Path y, String name, double eps) throws IOException {
        Path out = dir.resolve(name);
        PoisonJob.Builder b = PoisonJob.builder().data(x).labels(y).trigger(TriggerSpec.parse(PATCH)).target(0)
                .budget(Budget.parse("12")).mode(SelectionMode.CLEAN).outDir(out);
        if (!Double.isNaN(eps)) {
            b.cleanEps(eps);
        }
        try (Engine engine = Engine.open(Backend.CPU)) {
            PoisonJob.run(engine, b.build(), KEY, line -> { });
        }
        Path f = out.resolve("data.npy");
        byte[] file = java.nio.file.Files.readAllBytes(f);
        return java.util.Arrays.copyOfRange(file, (int) Npy.readHeader(f).dataOffset(), file.length);
    }

    private static boolean inPatch(int e) {
        return e / W < 2 && e % W < 2;
    }

    @Test
    void chosenSamplesMoveByEpsAwayFromTheirClassThenGetTheTrigger() throws IOException {
        byte[] x = images();
        Path xp = npy(x);
        Path yp = labels();
        byte[] none = run(xp, yp, "none", 0);
        byte[] byDefault = run(xp, yp, "default", Double.NaN);
        byte[] small = run(xp, yp, "eps8", 8);
        long[] chosen = ManifestReader.read(dir.resolve("default").resolve("manifest.json")).indices();
        assertArrayEquals(chosen, ManifestReader.read(dir.resolve("none").resolve("manifest.json")).indices(),
                "the push does not change which samples are chosen");
        assertArrayEquals(Npy.readIntegers(yp), Npy.readIntegers(dir.resolve("default").resolve("labels.npy")),
                "clean-label: labels kept");
        boolean[] isChosen = new boolean[N];
        for (long i : chosen) {
            isChosen[(int) i] = true;
            assertEquals(0, label((int) i), "clean-label chooses target-class samples");
        }
        int moved = 0;
        for (int i = 0; i < N; i++) {
            for (int e = 0; e < H * W; e++) {
                int at = i * H * W + e;
                int orig = x[at] & 0xff;
                int a = byDefault[at] & 0xff;
                int s = small[at] & 0xff;
                if (!isChosen[i] || inPatch(e)) {
                    assertEquals(none[at], byDefault[at], "outside the pushed pixels the push changes nothing");
                    assertEquals(none[at], small[at]);
                    continue;
                }
                assertEquals(orig, none[at] & 0xff, "without a push the chosen sample's other pixels are kept");
                // eps 8 never clamps here (pixels lie in [60, 170)): it shows the direction, which the
                // surrogate fixes and eps does not change; the default moves the same way by its own eps.
                int dir8 = s - orig;
                assertTrue(dir8 == 0 || dir8 == 8 || dir8 == -8, "eps 8 moved by " + dir8);
                int eps = (int) PoisonJob.DEFAULT_CLEAN_EPS;
                assertEquals(Math.max(0, Math.min(255, orig + dir8 / 8 * eps)), a, "default eps at sample " + i
                        + " element " + e);
                if (dir8 != 0) {
                    moved++;
                }
            }
        }
        assertTrue(moved > chosen.length * (H * W - 4) / 2, "most pixels of the chosen samples moved: " + moved);
    }

    @Test
    void thePushIsRefusedWhereItHasNoMeaning() throws IOException {
        Path xp = npy(images());
        Path yp = labels();
        PoisonJob.Builder dirty = PoisonJob.builder().data(xp).labels(yp).trigger(TriggerSpec.parse(PATCH)).target(0)
                .budget(Budget.parse("20")).outDir(dir.resolve("o")).cleanEps(16);
        InvalidArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(InvalidArgumentException.class,
                dirty::build);
        assertTrue(e.getMessage().contains("clean-label"), e.getMessage());
        org.junit.jupiter.api.Assertions.assertThrows(InvalidArgumentException.class, () -> PoisonJob.builder()
                .data(xp).labels(yp).trigger(TriggerSpec.parse(PATCH)).target(0).mode(SelectionMode.CLEAN)
                .outDir(dir.resolve("o")).cleanEps(-1).build());
        assertEquals(0.0, PoisonJob.builder().data(xp).labels(yp).trigger(TriggerSpec.parse(PATCH)).target(0)
                .outDir(dir.resolve("o")).build().cleanEps(), "dirty-label: no push");
    }

    private Path npy(byte[] x) throws IOException {
        Path f = dir.resolve("x.npy");
        try (NpyWriter w = NpyWriter.create(f, "|u1", new long[] {N, H, W})) {
            w.write(ByteBuffer.wrap(x));
            w.commit();
        }
        return f;
    }

    private Path labels() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 * N).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < N; i++) {
            b.putLong(label(i));
        }
        b.flip();
        Path f = dir.resolve("y.npy");
        try (NpyWriter w = NpyWriter.create(f, "<i8", new long[] {N})) {
            w.write(b);
            w.commit();
        }
        return f;
    }
}
