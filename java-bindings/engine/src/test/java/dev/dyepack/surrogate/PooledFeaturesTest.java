package dev.dyepack.surrogate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The surrogate's features: small images as their pixels (the same bits as before pooling existed),
 * large ones as block means of at most 1,024 values, checked against means computed here pixel by pixel.
 */
class PooledFeaturesTest {
    @Test
    void smallImagesAreTheirPixels() {
        PooledFeatures map = PooledFeatures.of(1, 28, 28, Layout.NHWC);
        assertEquals(1, map.factor());
        assertEquals(784, map.dim());
        byte[] img = new byte[2 * 784];
        new Random(3).nextBytes(img);
        float[] out = new float[2 * 784];
        map.mapUint8(ByteBuffer.wrap(img), 2, out, 0);
        for (int i = 0; i < img.length; i++) {
            assertEquals(Float.floatToIntBits((img[i] & 0xff) / 255f), Float.floatToIntBits(out[i]), "pixel " + i);
        }
    }

    @Test
    void theEvaluationBoundPoolsSmallImagesAndRefusesNonsense() {
        String key = PooledFeatures.MAX_FEATURES_PROPERTY;
        try {
            System.setProperty(key, "196");
            PooledFeatures map = PooledFeatures.of(1, 28, 28, Layout.NHWC);
            assertEquals(2, map.factor(), "28x28 at most 196 values: 2x2 blocks");
            assertEquals(196, map.dim());
            System.setProperty(key, " 49 ");
            assertEquals(4, PooledFeatures.of(1, 28, 28, Layout.NHWC).factor());
            for (String bad : new String[] {"0", "-3", "1025", "12.5", "many", ""}) {
                System.setProperty(key, bad);
                InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                        () -> PooledFeatures.of(1, 28, 28, Layout.NHWC), bad);
                assertTrue(e.getMessage().contains(key) && e.getMessage().contains("[1, 1024]"), e.getMessage());
            }
        } finally {
            System.clearProperty(key);
        }
        assertEquals(1, PooledFeatures.of(1, 28, 28, Layout.NHWC).factor(), "the default again");
    }

    @Test
    void largeImagesBecomeBlockMeansOfAtMost1024Values() {
        PooledFeatures big = PooledFeatures.of(3, 224, 224, Layout.NHWC);
        assertEquals(13, big.factor(), "the smallest block that brings 224x224x3 to at most 1,024 values");
        assertEquals(18 * 18 * 3, big.dim());
        for (long[] shape : new long[][] {{3, 224, 224}, {1, 1000, 3}, {2000, 1, 1}, {3, 33, 47}, {1, 40, 40}}) {
            PooledFeatures m = PooledFeatures.of(shape[0], shape[1], shape[2], Layout.NHWC);
            assertTrue(m.dim() <= PooledFeatures.MAX_FEATURES || m.dim() == shape[0], java.util.Arrays.toString(shape));
        }
    }

    @Test
    void blockMeansMatchAPixelByPixelReferenceInBothLayouts() {
        int c = 3;
        int h = 37;
        int w = 29;
        int n = 2;
        PooledFeatures nhwc = PooledFeatures.of(c, h, w, Layout.NHWC);
        PooledFeatures nchw = PooledFeatures.of(c, h, w, Layout.NCHW);
        int f = nhwc.factor();
        assertTrue(f > 1, "3x37x29 = 3,219 values need pooling");
        int bh = (h + f - 1) / f;
        int bw = (w + f - 1) / f;
        Random r = new Random(9);
        int[][][][] v = new int[n][h][w][c];
        byte[] hwc = new byte[n * h * w * c];
        byte[] chw = new byte[n * h * w * c];
        float[] fhwc = new float[n * h * w * c];
        for (int s = 0; s < n; s++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    for (int ch = 0; ch < c; ch++) {
                        v[s][y][x][ch] = r.nextInt(256);
                        hwc[s * h * w * c + (y * w + x) * c + ch] = (byte) v[s][y][x][ch];
                        chw[s * h * w * c + ch * h * w + y * w + x] = (byte) v[s][y][x][ch];
                        fhwc[s * h * w * c + (y * w + x) * c + ch] = v[s][y][x][ch];
                    }
                }
            }
        }
        float[] a = new float[n * nhwc.dim()];
        float[] b = new float[n * nchw.dim()];
        float[] fl = new float[n * nhwc.dim()];
        nhwc.mapUint8(ByteBuffer.wrap(hwc), n, a, 0);
        nchw.mapUint8(ByteBuffer.wrap(chw), n, b, 0);
        nhwc.mapFloat32(FloatBuffer.wrap(fhwc), n, fl, 0);
        for (int s = 0; s < n; s++) {
            for (int by = 0; by < bh; by++) {
                for (int bx = 0; bx < bw; bx++) {
                    for (int ch = 0; ch < c; ch++) {
                        long sum = 0;
                        int count = 0;
                        for (int y = by * f; y < Math.min(h, by * f + f); y++) {
                            for (int x = bx * f; x < Math.min(w, bx * f + f); x++) {
                                sum += v[s][y][x][ch];
                                count++;
                            }
                        }
                        int at = s * nhwc.dim() + (by * bw + bx) * c + ch;
                        assertEquals(sum / 255.0 / count, a[at], 1e-6, "uint8 NHWC block " + by + "," + bx + "," + ch);
                        assertEquals(a[at], b[at], "NCHW gives the same features");
                        assertEquals(sum / (double) count, fl[at], 1e-3, "float32 block " + by + "," + bx + "," + ch);
                    }
                }
            }
        }
    }

    /**
     * Direct buffers are pooled by the native library, heap buffers by the Java loop the test above checks
     * against its reference: the two give the same bits, in both layouts, from a buffer's position into an
     * array's offset.
     */
    @Test
    void theNativeMeansOfDirectBuffersAreTheJavaLoopsBitForBit() {
        Random r = new Random(21);
        for (int[] shape : new int[][] {{3, 224, 224}, {3, 37, 29}, {1, 40, 40}, {1, 1000, 3}, {2, 33, 47}, {4, 64, 9}}) {
            for (Layout layout : new Layout[] {Layout.NHWC, Layout.NCHW}) {
                PooledFeatures m = PooledFeatures.of(shape[0], shape[1], shape[2], layout);
                int per = shape[0] * shape[1] * shape[2];
                int n = 3;
                byte[] images = new byte[5 + n * per];
                r.nextBytes(images);
                ByteBuffer direct = ByteBuffer.allocateDirect(images.length).put(images).position(5);
                ByteBuffer heap = ByteBuffer.wrap(images).position(5);
                float[] fromNative = new float[7 + n * m.dim()];
                float[] fromJava = new float[7 + n * m.dim()];
                m.mapUint8(direct, n, fromNative, 7);
                m.mapUint8(heap, n, fromJava, 7);
                assertEquals(5, direct.position(), "the buffer's position is not moved");
                float[] untouched = fromNative.clone();
                m.mapUint8(direct, 0, fromNative, 7);
                assertTrue(java.util.Arrays.equals(untouched, fromNative), "no images, nothing written");
                String what = java.util.Arrays.toString(shape) + " " + layout + " (factor " + m.factor() + ")";
                for (int i = 0; i < fromJava.length; i++) {
                    assertEquals(Float.floatToIntBits(fromJava[i]), Float.floatToIntBits(fromNative[i]), what + ", value " + i);
                }
            }
        }
    }

    @Test
    void refusesTooSmallBuffers() {
        PooledFeatures m = PooledFeatures.of(1, 4, 4, Layout.NHWC);
        assertThrows(InvalidArgumentException.class, () -> m.mapUint8(ByteBuffer.allocate(15), 1, new float[16], 0));
        assertThrows(InvalidArgumentException.class, () -> m.mapUint8(ByteBuffer.allocate(16), 1, new float[15], 0));
        assertThrows(InvalidArgumentException.class, () -> PooledFeatures.of(0, 4, 4, Layout.NHWC));
    }
}
