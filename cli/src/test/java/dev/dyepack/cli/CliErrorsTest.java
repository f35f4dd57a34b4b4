package dev.dyepack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Parameters;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The CLI's error lines: library failures that name a parameter get the CLI's own option wording
 * (the library never names flags), and Java Errors inside a command become one line and an exit code,
 * not a stack trace.
 */
class CliErrorsTest {
    @TempDir
    Path dir;

    /** A command that fails with a given throwable, to reach the handlers as a real command would. */
    @Command(name = "fail")
    static final class Failing implements Callable<Integer> {
        private final Throwable failure;

        Failing(Throwable failure) {
            this.failure = failure;
        }

        @Override
        public Integer call() throws Exception {
            if (failure instanceof Error e) {
                throw e;
            }
            throw (Exception) failure;
        }
    }

    private static CliTest.Run runFailing(Throwable failure, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine(Map.of());
        cl.addSubcommand("fail", new Failing(failure));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        String[] all = new String[args.length + 1];
        all[0] = "fail";
        System.arraycopy(args, 0, all, 1, args.length);
        return new CliTest.Run(cl.execute(all), out.toString(), err.toString());
    }

    private static int lines(String text) {
        return text.isEmpty() ? 0 : text.split("\n", -1).length - (text.endsWith("\n") ? 1 : 0);
    }

    @Test
    void aKeyedTriggerWithoutAKeyNamesTheKeyOptions() {
        CliTest.Run r = CliTriggerTest.run(Map.of(), "apply", "--trigger", "noise:eps=8", "--out",
                dir.resolve("o.npy").toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code());
        // Besides the note on the embedded sample, one error line names the options that give the key.
        String[] errors = r.err().lines().filter(l -> l.startsWith("dyepack:")).toArray(String[]::new);
        assertEquals(1, errors.length, r.err());
        assertTrue(errors[0].startsWith("dyepack: trigger 'noise' is keyed"), r.err());
        assertTrue(errors[0].contains("--key-file FILE") && errors[0].contains("DYEPACK_KEY"), r.err());
    }

    @Test
    void theBudgetCapNamesTheOverrideOption() throws IOException {
        Path key = Files.writeString(dir.resolve("owner.key"), "correct horse battery staple 1234");
        CliTest.Run r = CliTriggerTest.run(Map.of(), "poison", "--trigger", "patch", "--target", "0", "--budget",
                "0.2", "--key-file", key.toString(), "--out", dir.resolve("out").toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code());
        assertTrue(r.err().contains("5% cap") && r.err().contains("--allow-over-5-percent"), r.err());
    }

    @Test
    void aParameterFaultGetsItsOptionOnceAndOthersNone() {
        CliTest.Run r = runFailing(InvalidArgumentException.of(Parameters.BUDGET, "'2.5'", "a fraction in (0, 1)"));
        assertEquals(ExitCodes.INVALID_INPUT, r.code());
        assertEquals("dyepack: budget must be a fraction in (0, 1), got '2.5' (option --budget)", r.err().strip());
        // A message that already names the option is not told it twice.
        r = runFailing(InvalidArgumentException.about(Parameters.KEY, null, "needs a key: give --key-file FILE"));
        assertEquals("dyepack: needs a key: give --key-file FILE", r.err().strip());
        // A parameter with no option of the CLI's (a tensor's strides) gets no hint.
        r = runFailing(InvalidArgumentException.of(Parameters.STRIDES, "[1, 2]", "[2, 1]"));
        assertEquals("dyepack: strides must be [2, 1], got [1, 2]", r.err().strip());
    }

    @Test
    void everyUserFacingParameterHasAnOption() throws IllegalAccessException {
        // The tensor-description parameters belong to library callers, not to command-line users.
        java.util.Set<String> libraryOnly = java.util.Set.of(Parameters.DTYPE, Parameters.SHAPE, Parameters.MEMORY,
                Parameters.EXTENT_BYTES, Parameters.STRIDES);
        for (Field f : Parameters.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class) {
                String name = (String) f.get(null);
                assertTrue(libraryOnly.contains(name) || OptionHints.parameters().contains(name),
                        "no CLI option wording for parameter " + name);
            }
        }
    }

    @Test
    void errorsInsideACommandBecomeOneLine() {
        CliTest.Run r = runFailing(new StackOverflowError());
        assertEquals(ExitCodes.INTERNAL, r.code());
        assertEquals(1, lines(r.err()), r.err());
        assertTrue(r.err().startsWith("dyepack: internal error: java.lang.StackOverflowError"), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
        assertTrue(r.err().contains("rerun with --stacktrace"), r.err());

        // Every input is checked against the limits first, so running out of memory is a defect: 70.
        r = runFailing(new OutOfMemoryError("Java heap space"));
        assertEquals(ExitCodes.INTERNAL, r.code());
        assertEquals(1, lines(r.err()), r.err());
        assertTrue(r.err().startsWith("dyepack: internal error: out of memory (Java heap space)"), r.err());
        assertTrue(r.err().contains("rerun with --stacktrace"), r.err());

        // With --stacktrace the trace follows the line.
        r = runFailing(new StackOverflowError(), "--stacktrace");
        assertEquals(ExitCodes.INTERNAL, r.code());
        assertTrue(r.err().startsWith("dyepack: internal error") && r.err().contains("\tat "), r.err());
    }
}
