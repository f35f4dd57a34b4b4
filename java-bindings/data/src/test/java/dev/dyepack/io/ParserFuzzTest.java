package dev.dyepack.io;

import static org.junit.jupiter.api.Assertions.fail;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.image.Images;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzzing of every parser of the data module with inputs a hostile dataset could hold: {@code .npy}
 * headers, IDX files (plain and gzip), index lists and images. The contract asserted is the documented
 * one: a parser returns, or refuses with {@link InvalidInputException} or {@link InvalidArgumentException};
 * never another {@link RuntimeException}, never an {@link Error} (a stack overflow, running out of
 * memory). Tries are few enough that each property runs in a few seconds; the crashers found are kept
 * in {@code src/test/resources/fuzz-corpus} and replayed by {@link CorpusRegressionTest}.
 */
class ParserFuzzTest {
    private static Path dir;
    private static byte[] png;

    @BeforeContainer
    static void setUp() throws IOException {
        dir = Files.createTempDirectory("dyepack-fuzz");
        BufferedImage img = new BufferedImage(4, 3, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 3; y++) {
            for (int x = 0; x < 4; x++) {
                img.setRGB(x, y, 0x102030 * (x + 1) + y);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        png = out.toByteArray();
    }

    @AfterContainer
    static void tearDown() throws IOException {
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(dir);
    }

    /** Runs a parser; anything but a return or a documented refusal fails the property. */
    static void onlyDocumentedRefusals(String what, ThrowingRunnable parse) {
        try {
            parse.run();
        } catch (InvalidInputException | InvalidArgumentException expected) {
            // the documented refusal
        } catch (Throwable t) {
            fail(what + ": undocumented " + t, t);
        }
    }

    /** A parser call. */
    @FunctionalInterface
    interface ThrowingRunnable {
        /** @throws Exception anything; the property judges it */
        void run() throws Exception;
    }

    /** A parser call on a file. */
    @FunctionalInterface
    interface ThrowingRunnable1 {
        /**
         * @param file the input
         * @throws Exception anything; the test judges it
         */
        void run(Path file) throws Exception;
    }

    // ------------------------------------------------------------------ .npy headers

    @Provide
    Arbitrary<String> headerTexts() {
        // Pieces of the Python literal grammar, so that most inputs get past the first character.
        Arbitrary<String> piece = Arbitraries.of("{", "}", "(", ")", "[", "]", ",", ":", " ", "'descr'", "'<f4'",
                "'|u1'", "'fortran_order'", "False", "True", "'shape'", "3", "-1", "0", "99999999999999999999",
                "L", "'", "\"", "\\", "\n", "'x'", "1e5", "None");
        Arbitrary<String> structured = piece.list().ofMaxSize(60).map(l -> String.join("", l));
        Arbitrary<String> nested = Arbitraries.integers().between(1, 5000).map(n -> "{'shape': " + "(".repeat(n)
                + "1" + ")".repeat(n) + ", 'descr': '<f4', 'fortran_order': False}");
        return Arbitraries.oneOf(structured, nested, Arbitraries.strings().ofMaxLength(200));
    }

    @Property(tries = 400)
    void npyHeadersAreParsedOrRefused(@ForAll("headerTexts") String header, @ForAll("versions") int version) {
        byte[] text = header.getBytes(StandardCharsets.ISO_8859_1);
        int preamble = version == 1 ? 10 : 12;
        ByteBuffer b = ByteBuffer.allocate(preamble + text.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) version).put((byte) 0);
        if (version == 1) {
            b.putShort((short) text.length);
        } else {
            b.putInt(text.length);
        }
        b.put(text).flip();
        onlyDocumentedRefusals("npy header " + header, () -> Npy.parseHeader(b, "fuzz.npy"));
    }

    @Provide
    Arbitrary<Integer> versions() {
        return Arbitraries.of(1, 2, 3, 0, 4);
    }

    @Property(tries = 300)
    void npyFilesOfRandomBytesAreReadOrRefused(@ForAll("npyFiles") byte[] content) throws IOException {
        Path f = Files.write(dir.resolve("fuzz.npy"), content);
        onlyDocumentedRefusals("npy file", () -> Npy.readHeader(f));
        onlyDocumentedRefusals("npy integers", () -> Npy.readIntegers(f));
    }

    @Provide
    Arbitrary<byte[]> npyFiles() {
        byte[] valid = NpyBytes.v1("<i8", "(2,)", new byte[16]);
        return mutations(valid);
    }

    // ------------------------------------------------------------------ IDX

    @Property(tries = 300)
    void idxFilesAreReadOrRefused(@ForAll("idxFiles") byte[] content, @ForAll boolean gzip) throws IOException {
        Path f = Files.write(dir.resolve(gzip ? "fuzz.idx.gz" : "fuzz.idx"), gzip ? gzip(content) : content);
        onlyDocumentedRefusals("idx header", () -> {
            try (IdxReader r = IdxReader.open(f)) {
                r.shape();
            }
        });
        onlyDocumentedRefusals("idx labels", () -> Idx.readLabels(f));
        onlyDocumentedRefusals("idx detection", () -> Samples.labels(f));
    }

    @Provide
    Arbitrary<byte[]> idxFiles() {
        byte[] valid = {0, 0, 0x08, 1, 0, 0, 0, 3, 7, 8, 9};
        return mutations(valid);
    }

    // ------------------------------------------------------------------ index lists

    @Provide
    Arbitrary<String> indexTexts() {
        Arbitrary<String> piece = Arbitraries.of("0", "1", "42", " ", ",", "\n", "\r\n", "#", "# note\n", "-1",
                "\uFF13", "\u0663", "99999999999999999999", "\uFEFF", "x", "\t", "1.5", "+3");
        return Arbitraries.oneOf(piece.list().ofMaxSize(40).map(l -> String.join("", l)),
                Arbitraries.strings().ofMaxLength(100));
    }

    @Property(tries = 400)
    void indexListsAreReadOrRefused(@ForAll("indexTexts") String text) throws IOException {
        Path f = Files.writeString(dir.resolve("fuzz.txt"), text, StandardCharsets.UTF_8);
        onlyDocumentedRefusals("indices " + text, () -> {
            long[] read = IndexList.read(f);
            for (long v : read) {
                if (v < 0) {
                    fail("negative index read from " + text);
                }
            }
        });
    }

    // ------------------------------------------------------------------ images

    @Property(tries = 200)
    void imagesAreDecodedOrRefused(@ForAll("pngFiles") byte[] content) throws IOException {
        Path f = Files.write(dir.resolve("fuzz.png"), content);
        onlyDocumentedRefusals("png", () -> Images.readUint8(f, 3, -1, -1));
    }

    @Provide
    Arbitrary<byte[]> pngFiles() {
        // Beyond random damage: the IHDR size fields (bytes 16..23) set to huge values, as a hostile
        // file declaring 40000 x 40000 pixels would.
        Arbitrary<byte[]> huge = Arbitraries.integers().between(1, Integer.MAX_VALUE).tuple2().map(wh -> {
            byte[] b = png.clone();
            ByteBuffer.wrap(b).putInt(16, wh.get1()).putInt(20, wh.get2());
            return b;
        });
        return Arbitraries.oneOf(mutations(png), huge);
    }

    // ------------------------------------------------------------------ helpers

    /** A valid file with random bytes overwritten, truncated, or extended. */
    static Arbitrary<byte[]> mutations(byte[] valid) {
        Arbitrary<byte[]> flipped = Arbitraries.integers().between(0, valid.length - 1).list().ofMinSize(1).ofMaxSize(6)
                .flatMap(positions -> Arbitraries.bytes().list().ofSize(positions.size()).map(values -> {
                    byte[] b = valid.clone();
                    for (int i = 0; i < positions.size(); i++) {
                        b[positions.get(i)] = values.get(i);
                    }
                    return b;
                }));
        Arbitrary<byte[]> truncated = Arbitraries.integers().between(0, valid.length - 1)
                .map(n -> java.util.Arrays.copyOf(valid, n));
        Arbitrary<byte[]> extended = Arbitraries.bytes().list().ofMaxSize(64).map(List::copyOf).map(extra -> {
            byte[] b = java.util.Arrays.copyOf(valid, valid.length + extra.size());
            for (int i = 0; i < extra.size(); i++) {
                b[valid.length + i] = extra.get(i);
            }
            return b;
        });
        return Arbitraries.oneOf(flipped, truncated, extended, Arbitraries.bytes().array(byte[].class).ofMaxSize(64));
    }

    static byte[] gzip(byte[] content) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(content);
        }
        return out.toByteArray();
    }
}
