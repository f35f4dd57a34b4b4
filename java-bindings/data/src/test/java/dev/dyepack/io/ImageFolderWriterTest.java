package dev.dyepack.io;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.io.ImageFolderTest.Images;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageFolderWriterTest {
    @TempDir
    Path dir;

    private List<String> names(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    private static byte[] counting(int n, int start) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (start + 37 * i);
        }
        return b;
    }

    private static byte[] read(ImageFolder f, long index, int channels) {
        ByteBuffer dst = ByteBuffer.allocate(f.height() * f.width() * channels);
        f.readImages(index, 1, dst, channels);
        return dst.array();
    }

    @Test
    void writtenImagesReadBackExactlyWithJpegNamesTurnedIntoPng() throws IOException {
        Path out = dir.resolve("out");
        byte[] gray = counting(12, 3);
        byte[] rgb = counting(36, 200);
        try (ImageFolder.Writer w = ImageFolder.Writer.create(out, List.of("cat", "dog"))) {
            assertEquals("1.png", w.add(0, "1.png", gray, 3, 4, 1));
            assertEquals("2.png", w.add(0, "2.JPG", counting(12, 9), 3, 4, 1));
            assertEquals("x.png", w.add(1, "x.jpeg", rgb, 3, 4, 3));
            assertEquals(3, w.imagesWritten());
            w.commit();
        }
        ImageFolder f = ImageFolder.scan(out);
        assertEquals(List.of("cat", "dog"), f.classes());
        assertEquals(3, f.size());
        assertEquals(out.resolve("cat").resolve("2.png"), f.file(1));
        assertEquals(out.resolve("dog").resolve("x.png"), f.file(2));
        assertArrayEquals(new long[] {0, 0, 1}, f.labels());
        assertEquals(3, f.height());
        assertEquals(4, f.width());
        assertEquals(1, f.channels());
        assertArrayEquals(gray, read(f, 0, 1));
        assertArrayEquals(counting(12, 9), read(f, 1, 1));
        assertArrayEquals(rgb, read(f, 2, 3));
        // Checked with javax.imageio directly too: a gray PNG really holds gray samples.
        BufferedImage png = ImageIO.read(f.file(0).toFile());
        assertEquals(BufferedImage.TYPE_BYTE_GRAY, png.getType());
        assertEquals(gray[5] & 0xff, png.getRaster().getSample(1, 1, 0));
    }

    @Test
    void mirrorsAScannedFolderPixelForPixel() throws IOException {
        Path in = dir.resolve("in");
        Images.gray(in.resolve("a").resolve("10.png"), 2, 2, 1, 2, 3, 4);
        Images.gray(in.resolve("a").resolve("9.png"), 2, 2, 5, 6, 7, 8);
        Images.rgb(in.resolve("b").resolve("p.png"), 2, 2, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 255, 128);
        ImageFolder src = ImageFolder.scan(in);
        Path out = dir.resolve("out");
        try (ImageFolder.Writer w = ImageFolder.Writer.create(out, src.classes())) {
            for (long i = 0; i < src.size(); i++) {
                int c = i < 2 ? 1 : 3;
                w.add(src.label(i), src.file(i).getFileName().toString(), read(src, i, c), 2, 2, c);
            }
            w.commit();
        }
        ImageFolder back = ImageFolder.scan(out);
        assertEquals(src.classes(), back.classes());
        assertArrayEquals(src.labels(), back.labels());
        for (long i = 0; i < src.size(); i++) {
            assertEquals(src.file(i).getFileName(), back.file(i).getFileName());
            assertArrayEquals(read(src, i, 3), read(back, i, 3));
        }
    }

    @Test
    void nothingAppearsUnderTheFinalNameBeforeCommit() throws IOException {
        Path out = dir.resolve("final");
        try (ImageFolder.Writer w = ImageFolder.Writer.create(out, List.of("k"))) {
            w.add(0, "a.png", new byte[1], 1, 1, 1);
            assertFalse(Files.exists(out));
            assertEquals(dir, w.tempRoot().getParent());
            String temp = w.tempRoot().getFileName().toString();
            assertTrue(temp.matches("\\.final\\.dyepack-tmp-" + ProcessHandle.current().pid() + "-[0-9a-f]+"), temp);
            assertEquals(List.of("a.png"), names(w.tempRoot().resolve("k")));
            w.commit();
            assertFalse(Files.exists(w.tempRoot()));
            assertThrows(IllegalStateException.class, () -> w.add(0, "b.png", new byte[1], 1, 1, 1));
        }
        assertEquals(List.of("final"), names(dir));
        assertEquals(List.of("a.png"), names(out.resolve("k")));
    }

    @Test
    void closingWithoutCommitLeavesNothing() throws IOException {
        try (ImageFolder.Writer w = ImageFolder.Writer.create(dir.resolve("abandoned"), List.of("a", "b"))) {
            w.add(0, "a.png", new byte[3], 1, 1, 3);
            w.add(1, "b.png", new byte[3], 1, 1, 3);
        }
        assertEquals(List.of(), names(dir));
    }

    @Test
    void anEmptyClassFailsTheCommitAndLeavesNothing() throws IOException {
        Path out = dir.resolve("out");
        try (ImageFolder.Writer w = ImageFolder.Writer.create(out, List.of("a", "b"))) {
            w.add(0, "a.png", new byte[1], 1, 1, 1);
            IllegalStateException e = assertThrows(IllegalStateException.class, w::commit);
            assertTrue(e.getMessage().contains("class 'b' has no image"), e.getMessage());
        }
        assertEquals(List.of(), names(dir));
    }

    @Test
    void theFinalFolderMustBeAbsentOrEmpty() throws IOException {
        Path full = Files.createDirectories(dir.resolve("full"));
        Files.writeString(full.resolve("keep.txt"), "mine");
        assertThrows(FileAlreadyExistsException.class, () -> ImageFolder.Writer.create(full, List.of("k")));
        Path file = Files.writeString(dir.resolve("file"), "mine");
        assertThrows(FileAlreadyExistsException.class, () -> ImageFolder.Writer.create(file, List.of("k")));

        Path empty = Files.createDirectories(dir.resolve("empty"));
        try (ImageFolder.Writer w = ImageFolder.Writer.create(empty, List.of("k"))) {
            w.add(0, "a.png", new byte[1], 1, 1, 1);
            w.commit();
        }
        assertEquals(List.of("k"), names(empty));

        // Filled by someone else between create and commit: the commit fails, both are left alone.
        Path late = dir.resolve("late");
        try (ImageFolder.Writer w = ImageFolder.Writer.create(late, List.of("k"))) {
            w.add(0, "a.png", new byte[1], 1, 1, 1);
            Files.createDirectories(late);
            Files.writeString(late.resolve("theirs.txt"), "theirs");
            assertThrows(FileAlreadyExistsException.class, w::commit);
            assertFalse(Files.exists(w.tempRoot()));
        }
        assertEquals(List.of("theirs.txt"), names(late));
        assertEquals(List.of("empty", "file", "full", "late"), names(dir));
    }

    @Test
    void refusesClassListsThatWouldNotReadBackTheSame() {
        Path out = dir.resolve("out");
        assertThrows(InvalidArgumentException.class, () -> ImageFolder.Writer.create(out, List.of("b", "a")));
        assertThrows(InvalidArgumentException.class, () -> ImageFolder.Writer.create(out, List.of("a", "a")));
        assertThrows(InvalidArgumentException.class, () -> ImageFolder.Writer.create(out, List.of(".a")));
        assertThrows(InvalidArgumentException.class, () -> ImageFolder.Writer.create(out, List.of("a/b")));
        assertThrows(InvalidArgumentException.class, () -> ImageFolder.Writer.create(out, List.of("")));
        assertThrows(InvalidArgumentException.class, () -> ImageFolder.Writer.create(out, List.of()));
        assertThrows(InvalidArgumentException.class, () -> ImageFolder.Writer.create(null, List.of("a")));
        assertThrows(InvalidArgumentException.class, () -> ImageFolder.Writer.create(out, null));
        assertFalse(Files.exists(out));
    }

    @Test
    void refusesImagesThatWouldNotReadBackTheSame() throws IOException {
        Path out = dir.resolve("out");
        try (ImageFolder.Writer w = ImageFolder.Writer.create(out, List.of("a", "b"))) {
            byte[] px = new byte[4];
            assertThrows(InvalidArgumentException.class, () -> w.add(2, "1.png", px, 2, 2, 1));
            assertThrows(InvalidArgumentException.class, () -> w.add(-1, "1.png", px, 2, 2, 1));
            for (String bad : new String[] {"1.gif", ".1.png", "x/1.png", "", "png"}) {
                assertThrows(InvalidArgumentException.class, () -> w.add(0, bad, px, 2, 2, 1), bad);
            }
            assertThrows(InvalidArgumentException.class, () -> w.add(0, "1.png", px, 2, 2, 2));
            assertThrows(InvalidArgumentException.class, () -> w.add(0, "1.png", px, 2, 2, 3));
            assertThrows(InvalidArgumentException.class, () -> w.add(0, "1.png", null, 2, 2, 1));
            assertThrows(InvalidArgumentException.class, () -> w.add(0, "1.png", new byte[0], 0, 0, 1));

            w.add(0, "m.jpg", px, 2, 2, 1);
            // Same size for every image.
            assertThrows(InvalidArgumentException.class, () -> w.add(0, "n.png", new byte[6], 2, 3, 1));
            // File-name order within a class; "m.png" is what "m.jpg" became.
            assertThrows(InvalidArgumentException.class, () -> w.add(0, "m.png", px, 2, 2, 1));
            assertThrows(InvalidArgumentException.class, () -> w.add(0, "a.png", px, 2, 2, 1));
            // Each class has its own order.
            w.add(1, "a.png", px, 2, 2, 1);
            w.add(0, "z.png", px, 2, 2, 1);
            assertEquals(3, w.imagesWritten());
            assertEquals(List.of("m.png", "z.png"), names(w.tempRoot().resolve("a")));
            w.commit();
        }
        assertEquals(3, ImageFolder.scan(out).size());
    }

    @Test
    void theSamePixelsGiveTheSameFile() throws IOException {
        byte[] rgb = counting(3 * 5 * 7, 11);
        for (String name : new String[] {"one", "two"}) {
            try (ImageFolder.Writer w = ImageFolder.Writer.create(dir.resolve(name), List.of("k"))) {
                w.add(0, "x.png", rgb, 5, 7, 3);
                w.commit();
            }
        }
        assertArrayEquals(Files.readAllBytes(dir.resolve("one/k/x.png")), Files.readAllBytes(dir.resolve("two/k/x.png")));
    }
}
