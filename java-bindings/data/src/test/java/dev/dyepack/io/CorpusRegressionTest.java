package dev.dyepack.io;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.InvalidInputException;
import dev.dyepack.image.Images;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Replays the committed corpus of hostile inputs ({@code src/test/resources/fuzz-corpus/<parser>/}),
 * each a file that once crashed a parser or made it unbounded: a {@code .npy} header nested 30,000
 * levels deep (a {@link StackOverflowError}), one with a 60,000-digit integer, a gzip IDX file that
 * declares 16 bytes and inflates to 64 MiB (inflated whole before), a full-width digit in an index
 * list (read as 3), a 6 KB PNG that declares 40000 x 40000 pixels. Each must be refused with an
 * {@link InvalidInputException} that names the file, within a few seconds.
 */
class CorpusRegressionTest {
    private static Path corpus(String parser) throws URISyntaxException {
        return Path.of(CorpusRegressionTest.class.getResource("/fuzz-corpus/" + parser).toURI());
    }

    private static Stream<DynamicTest> replay(String parser, ParserFuzzTest.ThrowingRunnable1 parse)
            throws IOException, URISyntaxException {
        List<Path> files;
        try (Stream<Path> s = Files.list(corpus(parser))) {
            files = s.sorted().toList();
        }
        assertFalse(files.isEmpty(), "empty corpus for " + parser);
        return files.stream().map(f -> DynamicTest.dynamicTest(parser + "/" + f.getFileName(), () -> {
            long t0 = System.nanoTime();
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> parse.run(f));
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
            assertTrue(seconds < 5, f + " took " + seconds + " s to refuse");
        }));
    }

    @TestFactory
    Stream<DynamicTest> npyHeaders() throws IOException, URISyntaxException {
        return replay("npy", Npy::readHeader);
    }

    @TestFactory
    Stream<DynamicTest> idxFiles() throws IOException, URISyntaxException {
        return replay("idx", f -> {
            try (IdxReader r = IdxReader.open(f)) {
                r.shape();
            }
        });
    }

    @TestFactory
    Stream<DynamicTest> indexLists() throws IOException, URISyntaxException {
        return replay("indices", IndexList::read);
    }

    @TestFactory
    Stream<DynamicTest> images() throws IOException, URISyntaxException {
        return replay("png", f -> Images.readUint8(f, 3, -1, -1));
    }
}
