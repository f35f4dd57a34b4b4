package dev.dyepack.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.InvalidInputException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ImageHeaderTest {
    @Test
    void readsSizeAndFormFromTheStructure() throws IOException {
        byte[] png = TestImages.png(new BufferedImage(7, 5, BufferedImage.TYPE_USHORT_GRAY), null);
        ImageHeader p = ImageHeader.parse(png, "a.png");
        assertEquals(ImageHeader.Format.PNG, p.format());
        assertEquals(7, p.width());
        assertEquals(5, p.height());
        assertEquals(16, p.bitDepth());
        assertEquals(0, p.colorType());
        byte[] jpg = TestImages.jpeg(TestImages.image(TestImages.picture(9, 6, 3, 1), 9, 6, 3), 0.8f, null);
        ImageHeader j = ImageHeader.parse(jpg, "a.png"); // the content decides, not the name
        assertEquals(ImageHeader.Format.JPEG, j.format());
        assertEquals(9, j.width());
        assertEquals(6, j.height());
        assertEquals(3, j.components());
        assertFalse(j.progressive());
    }

    /** Every cut of a file short of its end is refused, naming the file; the whole file is not. */
    @Test
    void refusesTruncatedFiles() throws IOException {
        byte[] png = TestImages.png(TestImages.image(TestImages.picture(16, 16, 3, 2), 16, 16, 3), null);
        byte[] jpg = TestImages.jpeg(TestImages.image(TestImages.picture(16, 16, 3, 2), 16, 16, 3), 0.8f, null);
        for (byte[] file : new byte[][] {png, jpg}) {
            ImageHeader.parse(file, "whole");
            for (int cut = 0; cut < file.length; cut += Math.max(1, file.length / 97)) {
                byte[] part = Arrays.copyOf(file, cut);
                InvalidInputException e = assertThrows(InvalidInputException.class,
                        () -> ImageHeader.parse(part, "cut.img"), "cut at " + cut);
                assertTrue(e.getMessage().startsWith("cut.img: "), e.getMessage());
            }
        }
    }

    @Test
    void refusesADamagedPngChunk() throws IOException {
        byte[] png = TestImages.png(TestImages.image(TestImages.picture(16, 16, 1, 3), 16, 16, 1), null);
        png[png.length - 20] ^= 0x55; // inside the IDAT data: its CRC no longer matches
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ImageHeader.parse(png, "x.png"));
        assertTrue(e.getMessage().contains("CRC"), e.getMessage());
        assertThrows(InvalidInputException.class, () -> ImageHeader.parse("GIF89a....".getBytes(), "x.gif"));
    }
}
