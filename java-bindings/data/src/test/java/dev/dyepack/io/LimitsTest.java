package dev.dyepack.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.image.Images;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The limits: documented defaults, overrides by system property, and readers that honour them. */
class LimitsTest {
    @TempDir
    Path dir;

    @AfterEach
    void clear() {
        for (String name : new String[] {"pixels", "indices-bytes", "header-bytes", "depth"}) {
            System.clearProperty(Limits.PROPERTY_PREFIX + name);
        }
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        Limits d = Limits.defaultLimits();
        assertEquals(1L << 25, d.pixels());
        assertEquals(256L << 20, d.imageBytes());
        assertEquals(1L << 20, d.headerBytes());
        assertEquals(64, d.depth());
        assertEquals(64L << 20, d.indicesBytes());
        assertEquals(65536, d.classes());
        assertEquals(64L << 20, d.recordBytes());
    }

    @Test
    void aPropertyLowersALimitAndTheMessageNamesIt() throws IOException {
        Path png = dir.resolve("twenty.png");
        ImageIO.write(new BufferedImage(20, 20, BufferedImage.TYPE_BYTE_GRAY), "png", png.toFile());
        Images.readUint8(png, 1, -1, -1);
        System.setProperty(Limits.PROPERTY_PREFIX + "pixels", "399");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Images.readUint8(png, 1, -1, -1));
        assertTrue(e.getMessage().contains("20x20") && e.getMessage().contains("dyepack.limit.pixels"), e.getMessage());

        Path indices = Files.writeString(dir.resolve("i.txt"), "1 2 3 4 5 6 7 8 9", StandardCharsets.UTF_8);
        assertEquals(9, IndexList.read(indices).length);
        System.setProperty(Limits.PROPERTY_PREFIX + "indices-bytes", "16");
        e = assertThrows(InvalidInputException.class, () -> IndexList.read(indices));
        assertTrue(e.getMessage().contains("dyepack.limit.indices-bytes"), e.getMessage());
    }

    @Test
    void aShallowDepthLimitRefusesANestedNpyHeader() {
        System.setProperty(Limits.PROPERTY_PREFIX + "depth", "1");
        byte[] file = NpyBytes.v1("<f4", "((2,),)", new byte[0]);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> Npy.parseHeader(java.nio.ByteBuffer.wrap(file), "nested.npy"));
        assertTrue(e.getMessage().contains("nested deeper than 1"), e.getMessage());
    }

    @Test
    void overridesAreAsciiDigitsOnly() {
        System.setProperty(Limits.PROPERTY_PREFIX + "pixels", "\uFF11\uFF10");
        assertThrows(InvalidArgumentException.class, Limits::current);
        System.setProperty(Limits.PROPERTY_PREFIX + "pixels", "0");
        assertThrows(InvalidArgumentException.class, Limits::current);
        assertThrows(InvalidArgumentException.class, () -> Limits.defaultLimits().with("no-such", 1));
    }
}
