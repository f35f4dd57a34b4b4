package dev.dyepack.job;

import dev.dyepack.Backend;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.Layout;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.io.NpyWriter;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.trigger.TriggerSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Reproducibility: the same key, inputs and spec give identical bytes whatever the chunk size (so
 * whatever the batch size) and thread count; another key gives other bytes.
 */
class StampJobTest {
    @TempDir
    Path dir;

    private Path images(String descr, long[] shape, byte[] data) throws IOException {
        Path p = dir.resolve("in-" + descr.replace('<', 'l').replace('|', 'p') + ".npy");
        try (NpyWriter w = NpyWriter.create(p, descr, shape)) {
            w.write(ByteBuffer.wrap(data));
            w.commit();
        }
        return p;
    }

    private byte[] run(Path in, String spec, OwnerKey key, long[] indices, long chunkBytes, int threads, String name)
            throws IOException {
        Path out = dir.resolve(name + ".npy");
        try (Engine engine = Engine.open(Backend.CPU)) {
            engine.threads(threads);
            StampJob.prepare(in, out, TriggerSpec.parse(spec), key, indices, Layout.NHWC).run(engine, chunkBytes);
        }
        return Files.readAllBytes(out);
    }

    @ParameterizedTest
    @ValueSource(strings = {"patch:size=4,pattern=random,pos=random", "blend:alpha=0.3,pattern=noise", "warp:k=4,s=2",
        "noise:eps=12", "sig:delta=25,freq=3", "lowfreq:amp=20,freqs=1x1+0x3,space=yuv"})
    void sameBytesForEveryChunkSizeAndThreadCount(String spec) throws IOException {
        int n = 37;
        int h = 13;
        int w = 11;
        int c = 3;
        byte[] data = new byte[n * h * w * c];
        new Random(7).nextBytes(data);
        Path in = images("|u1", new long[] {n, h, w, c}, data);
        OwnerKey key = new OwnerKey("stamp job test key, 32 bytes ok!".getBytes(StandardCharsets.UTF_8));
        long[] picked = {30, 2, 17, 5, 36, 0};
        long sample = (long) h * w * c;
        byte[] whole = run(in, spec, key, picked, 1L << 30, 1, "whole");
        byte[] chunked = run(in, spec, key, picked, 5 * sample, 2, "chunked");
        byte[] single = run(in, spec, key, picked, 1, 3, "single");
        assertArrayEquals(whole, chunked, "chunks of 5 samples");
        assertArrayEquals(whole, single, "one sample at a time");
        byte[] other = run(in, spec, new OwnerKey("another key entirely, 32 bytes!!".getBytes(StandardCharsets.UTF_8)),
                picked, 1L << 30, 1, "other");
        boolean keyed = TriggerSpec.parse(spec).keyed();
        assertEquals(keyed, !Arrays.equals(whole, other), "a keyed trigger must change with the key, a keyless one not");
        // Unselected samples are untouched; selected ones changed.
        byte[] payload = Arrays.copyOfRange(whole, whole.length - data.length, whole.length);
        for (int s = 0; s < n; s++) {
            int from = (int) (s * sample);
            boolean same = Arrays.equals(Arrays.copyOfRange(payload, from, (int) (from + sample)),
                    Arrays.copyOfRange(data, from, (int) (from + sample)));
            final int sIdx = s;
            boolean selected = Arrays.stream(picked).anyMatch(v -> v == sIdx);
            assertEquals(!selected, same, "sample " + s);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tokens:ids=9+8+7,pos=random,pad=0", "columns:cols=0+4,values=2.5+-1,mode=shift"})
    void sequencesAndRowsStreamToo(String spec) throws IOException {
        boolean tokens = spec.startsWith("tokens");
        int n = 23;
        int width = 10;
        Random rng = new Random(3);
        ByteBuffer b = ByteBuffer.allocate(n * width * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            int len = 3 + rng.nextInt(width - 3);
            for (int j = 0; j < width; j++) {
                if (tokens) {
                    b.putInt(j < len ? 1 + rng.nextInt(1000) : 0);
                } else {
                    b.putFloat(rng.nextFloat());
                }
            }
        }
        Path in = images(tokens ? "<i4" : "<f4", new long[] {n, width}, b.array());
        OwnerKey key = new OwnerKey("sequence key for the stamp job...".getBytes(StandardCharsets.UTF_8));
        byte[] whole = run(in, spec, key, null, 1L << 30, 1, "whole");
        byte[] single = run(in, spec, key, null, 1, 2, "single");
        assertArrayEquals(whole, single);
        assertFalse(Arrays.equals(whole, Files.readAllBytes(in)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"noise:eps=4", "warp", "blend", "patch:pos=random"})
    void keyedTriggersRefuseToRunWithoutAKey(String spec) throws IOException {
        Path in = images("|u1", new long[] {2, 8, 8}, new byte[128]);
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> StampJob.prepare(in, dir.resolve("o.npy"), TriggerSpec.parse(spec), null, null, Layout.NHWC));
        assertEquals(java.util.Optional.of(dev.dyepack.Parameters.KEY), e.parameter(), e.getMessage());
        assertFalse(e.getMessage().contains("--"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("o.npy")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"tokens:ids=1", "columns:cols=1,values=0"})
    void sequenceTriggersRefuseImages(String spec) throws IOException {
        Path in = images("|u1", new long[] {2, 8, 8}, new byte[128]);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> StampJob.prepare(in, dir.resolve("o.npy"), TriggerSpec.parse(spec), null, null, Layout.NHWC));
        assertTrue(e.getMessage().contains("of shape (N, "), e.getMessage());
    }
}
