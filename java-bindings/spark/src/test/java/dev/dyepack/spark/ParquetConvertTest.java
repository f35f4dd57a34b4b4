package dev.dyepack.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dyepack.io.Npy;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code convert} from an image folder to Parquet and back keeps every pixel and label, in folder order. */
class ParquetConvertTest {
    @TempDir
    Path dir;

    @Test
    void imageFolderRoundTripsThroughParquet() throws IOException {
        // Two classes, RGB 5x4 images whose pixels encode (class, image, x, y, channel).
        int[][] expected = new int[6][];
        int at = 0;
        for (int c = 0; c < 2; c++) {
            Path cls = Files.createDirectories(dir.resolve("folder").resolve("class" + c));
            for (int i = 0; i < 3; i++) {
                BufferedImage img = new BufferedImage(5, 4, BufferedImage.TYPE_INT_RGB);
                int[] px = new int[4 * 5 * 3];
                for (int y = 0; y < 4; y++) {
                    for (int x = 0; x < 5; x++) {
                        int r = (c * 100 + i * 30 + x * 5 + y) & 0xff;
                        int g = (r + 7) & 0xff;
                        int b = (r + 13) & 0xff;
                        img.setRGB(x, y, (r << 16) | (g << 8) | b);
                        px[(y * 5 + x) * 3] = r;
                        px[(y * 5 + x) * 3 + 1] = g;
                        px[(y * 5 + x) * 3 + 2] = b;
                    }
                }
                ImageIO.write(img, "png", cls.resolve("img" + i + ".png").toFile());
                expected[at++] = px;
            }
        }
        Path parquet = dir.resolve("folder.parquet");
        assertEquals(6, ParquetConvert.toParquet(LocalSpark.get(), dir.resolve("folder"), null, parquet, 2, false));
        assertEquals(6, ParquetConvert.toNpy(LocalSpark.get(), parquet, dir.resolve("back"), false));
        byte[] data = Files.readAllBytes(dir.resolve("back/data.npy"));
        int header = data.length - 6 * 60;
        for (int s = 0; s < 6; s++) {
            for (int k = 0; k < 60; k++) {
                assertEquals(expected[s][k], data[header + s * 60 + k] & 0xff, "sample " + s + " byte " + k);
            }
        }
        assertArrayEquals(new long[] {0, 0, 0, 1, 1, 1}, Npy.readIntegers(dir.resolve("back/labels.npy")));
    }
}
