package dev.dyepack.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.InvalidArgumentException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.plugins.jpeg.JPEGQTable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class JpegQualityTest {
    /** Files written by the JDK's encoder at a known quality: the estimate is within 2 of it. */
    @ParameterizedTest
    @ValueSource(ints = {5, 10, 25, 40, 50, 60, 75, 85, 90, 95, 98})
    void estimatesTheQualityAFileWasWrittenAt(int quality) throws IOException {
        for (int channels : new int[] {1, 3}) {
            byte[] file = TestImages.jpeg(TestImages.image(TestImages.picture(40, 24, channels, quality), 40, 24,
                    channels), quality / 100f, null);
            ImageHeader h = ImageHeader.parse(file, "q" + quality);
            assertEquals(channels == 1 ? 1 : 2, h.quantTables().size());
            JpegQuality.Estimate e = JpegQuality.estimate(h.quantTables());
            assertTrue(Math.abs(e.quality() - quality) <= 2, "wrote " + quality + ", estimated " + e);
        }
    }

    /** The IJG tables at quality 50 are the standard's example tables themselves (T.81 Annex K). */
    @Test
    void qualityFiftyIsTheStandardTable() {
        // JPEGQTable.K1Luminance is the JDK's copy of Annex K's table, in natural order.
        assertEquals(java.util.Arrays.toString(JPEGQTable.K1Luminance.getTable()),
                java.util.Arrays.toString(JpegQuality.table(50, true)));
        assertEquals(java.util.Arrays.toString(JPEGQTable.K2Chrominance.getTable()),
                java.util.Arrays.toString(JpegQuality.table(50, false)));
        // Quality 100 is all ones; quality 1 clamps to 255 for baseline.
        for (int v : JpegQuality.table(100, true)) {
            assertEquals(1, v);
        }
        assertEquals(255, JpegQuality.table(1, true)[63]);
    }

    /** Tables that follow no IJG scaling give the nearest quality, not an exact match. */
    @Test
    void foreignTablesAreNotExact() {
        int[] flat = new int[64];
        java.util.Arrays.fill(flat, 7);
        List<int[]> tables = new ArrayList<>();
        tables.add(flat);
        JpegQuality.Estimate e = JpegQuality.estimate(tables);
        assertFalse(e.exact());
        assertTrue(e.quality() >= 1 && e.quality() <= 100);
        assertThrows(InvalidArgumentException.class, () -> JpegQuality.estimate(List.of()));
        assertThrows(InvalidArgumentException.class, () -> JpegQuality.estimate(List.of(new int[3])));
        assertThrows(InvalidArgumentException.class, () -> JpegQuality.table(0, true));
    }
}
