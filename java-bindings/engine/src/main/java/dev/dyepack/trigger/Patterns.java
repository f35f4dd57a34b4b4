package dev.dyepack.trigger;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.trigger.ImagePattern;
import dev.dyepack.key.KeyedRandom;
import dev.dyepack.key.OwnerKey;
import java.nio.file.Path;

/** Pattern builders shared by the image families. */
final class Patterns {
    private Patterns() {}

    /** HKDF purposes: one subkey per use, so no two uses ever share a random stream. */
    static final String PATCH_PATTERN = "trigger/patch-pattern";
    static final String PATCH_POSITION = "trigger/patch-position";
    static final String BLEND_PATTERN = "trigger/blend-pattern";
    static final String WARP_FIELD = "trigger/warp-field";
    static final String NOISE = "trigger/noise";
    static final String SPARSE_PATTERN = "trigger/sparse-pattern";
    static final String TOKEN_POSITION = "trigger/token-position";
    static final String DCT_SIGNS = "trigger/dct-signs";

    static int checkedElements(long c, long h, long w, String family) {
        long n = c * h * w;
        if (n > Integer.MAX_VALUE - 8) {
            throw new InvalidArgumentException(family + ": a pattern of " + n + " elements is too large");
        }
        return (int) n;
    }

    /**
     * A keyed pattern of C x H x W values, one per element in layout order: for uint8 data integers
     * 0..255, uniform; for float32 data uniform in [0, full). Stream 0 of the purpose's subkey,
     * index = element offset: the same key gives the same pattern for every sample and batch.
     */
    static float[] keyedUniform(OwnerKey key, String purpose, Tensor batch, long c, long h, long w, float full) {
        KeyedRandom rng = new KeyedRandom(key.philoxKey(purpose));
        float[] out = new float[checkedElements(c, h, w, purpose)];
        boolean u8 = batch.dtype() == dev.dyepack.DType.UINT8;
        // below(0, e, 256) and uniform(0, e), from the words of stream 0 drawn a block at a time: a bound of
        // 256 divides 2^32, so below never rejects and keeps the low 8 bits; uniform is the top 24 bits
        // times 2^-24.
        int[] bits = new int[out.length];
        rng.fillBits(0, bits);
        for (int e = 0; e < out.length; e++) {
            out[e] = u8 ? bits[e] & 0xff : ((bits[e] >>> 8) * 0x1p-24f) * full;
        }
        return out;
    }

    /** SHA-256 of a file's bytes, lower-case hex. */
    static String sha256(Path file) {
        byte[] bytes;
        try {
            bytes = java.nio.file.Files.readAllBytes(file);
        } catch (java.io.IOException | OutOfMemoryError e) {
            throw new dev.dyepack.InvalidInputException("cannot read pattern picture " + file + ": " + e.getMessage(), e);
        }
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform provides SHA-256", e);
        }
    }

    /** The decoder of pattern pictures, looked up once (null when no module provides one). */
    private static final class Decoder {
        static final PatternImageDecoder INSTALLED = java.util.ServiceLoader.load(PatternImageDecoder.class,
                PatternImageDecoder.class.getClassLoader()).findFirst().orElse(null);
    }

    /** Decodes a pattern picture with the installed decoder. */
    static ImagePattern decode(Path file, int channels, dev.dyepack.Layout layout) {
        if (Decoder.INSTALLED == null) {
            throw new InvalidArgumentException("image patterns need a picture decoder: add the dyepack-data module "
                    + "(dev.dyepack:dyepack-data) to the class path");
        }
        return Decoder.INSTALLED.decode(file, channels, layout);
    }

    /** A user image, in the batch's channels and layout, resized to h x w, scaled to [0, full]. */
    static ImagePattern image(Path file, Tensor batch, int h, int w, float full) {
        ImagePattern img = decode(file, (int) batch.c(), batch.layout());
        if (img.height() != h || img.width() != w) {
            img = PatternResize.resize(img, h, w);
        }
        float[] v = img.values();
        if (full != 255f) {
            for (int i = 0; i < v.length; i++) {
                v[i] = v[i] * (full / 255f);
            }
        }
        return new ImagePattern(v, img.alpha(), img.channels(), img.height(), img.width(), img.layout());
    }

    /** Fills a C x h x w array in `layout` with value(c, y, x). */
    interface ElementFn {
        float at(int c, int y, int x);
    }

    static float[] fill(int c, int h, int w, Layout layout, ElementFn fn) {
        float[] out = new float[checkedElements(c, h, w, "pattern")];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    out[(int) layout.offset(ch, y, x, c, h, w)] = fn.at(ch, y, x);
                }
            }
        }
        return out;
    }
}
