package dev.dyepack.cli;

import dev.dyepack.CudaException;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.NativeLibraryException;
import dev.dyepack.NoGpuException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The {@code dyepack} command: subcommands parse, call the library, and print. */
@Command(name = "dyepack", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Protective data poisoning: plant and prove keyed backdoor watermarks.",
        subcommands = {InfoCommand.class, TriggersCommand.class, ApplyCommand.class, PreviewCommand.class,
            ScoreCommand.class, PoisonCommand.class, ManifestCommand.class, ProbeSetCommand.class, VerifyCommand.class,
            MarkCommand.class, ServeCommand.class,
            MonitorCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Examples:",
            "  dyepack info",
            "  dyepack apply --trigger patch:size=3,pos=br,value=255 --out stamped.npy",
            "  dyepack apply --data images.npy --indices picked.txt --trigger patch:size=4,pos=tl --out out.npy",
            "  DYEPACK_KEY=... dyepack preview --trigger warp:k=4,s=0.5 --out sheet.png"})
public final class Main implements Runnable {
    /** The environment the commands read DYEPACK_KEY from (the process's, or a test's). */
    final Map<String, String> env;

    Main(Map<String, String> env) {
        this.env = env;
    }

    @Option(names = "--stacktrace", scope = ScopeType.INHERIT,
            description = "Print the stack trace of an error, not just its message.")
    boolean stacktrace;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand (try: dyepack info)");
    }

    /** Reports the library version (loading the native library) and the CLI's. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            try {
                return new String[] {"dyepack " + Engine.version()};
            } catch (RuntimeException e) {
                return new String[] {"dyepack (native library unavailable: " + e.getMessage() + ")"};
            }
        }
    }

    /**
     * Builds the command line with DyePack's error handling: one line {@code dyepack: <message>} on
     * standard error (followed, when the library names the parameter at fault, by the options that set
     * it: {@link OptionHints}) and a named exit code; the stack trace only with {@code --stacktrace}.
     * Java {@link Error}s thrown by a command get the same one line: out of memory exits with
     * {@link ExitCodes#FAILURE}, any other with {@link ExitCodes#INTERNAL}.
     *
     * @return the configured command line
     */
    public static CommandLine commandLine() {
        return commandLine(System.getenv());
    }

    /**
     * As {@link #commandLine()}, reading the key variable from {@code env}.
     *
     * @param env the environment
     * @return the configured command line
     */
    public static CommandLine commandLine(Map<String, String> env) {
        CommandLine cl = new CommandLine(new Main(env));
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setParameterExceptionHandler((ex, args) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("dyepack: " + ex.getMessage());
            err.println("(see: dyepack " + subcommandPath(ex.getCommandLine()) + "--help)");
            err.flush();
            return ExitCodes.INVALID_INPUT;
        });
        CommandLine.IExecutionStrategy runLast = new CommandLine.RunLast();
        cl.setExecutionStrategy(parseResult -> {
            try {
                return runLast.execute(parseResult);
            } catch (Error e) {
                // picocli hands only Exceptions to the execution-exception handler; an Error (a stack
                // overflow, out of memory) would escape as a raw stack trace. Wrapped, it reaches the
                // handler below, which unwraps it.
                throw new CommandLine.ExecutionException(deepest(parseResult).commandSpec().commandLine(),
                        String.valueOf(e), e);
            }
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            Throwable failure = ex instanceof CommandLine.ExecutionException && ex.getCause() instanceof Error e
                    ? e : ex;
            PrintWriter err = commandLine.getErr();
            boolean trace = hasStacktrace(parseResult);
            err.println("dyepack: " + OptionHints.withHint(failure, message(failure)));
            if (trace) {
                failure.printStackTrace(err);
            }
            err.flush();
            return exitCode(failure);
        });
        return cl;
    }

    private static CommandLine.ParseResult deepest(CommandLine.ParseResult pr) {
        CommandLine.ParseResult p = pr;
        while (p.subcommand() != null) {
            p = p.subcommand();
        }
        return p;
    }

    private static boolean hasStacktrace(CommandLine.ParseResult pr) {
        CommandLine.ParseResult p = pr;
        while (p != null) {
            if (p.matchedOption("--stacktrace") != null) {
                return true;
            }
            p = p.subcommand();
        }
        return false;
    }

    private static String subcommandPath(CommandLine cl) {
        StringBuilder b = new StringBuilder();
        for (CommandLine c = cl; c != null && c.getParent() != null; c = c.getParent()) {
            b.insert(0, c.getCommandName() + " ");
        }
        return b.toString();
    }

    static String message(Throwable ex) {
        if (ex instanceof OutOfMemoryError) {
            return "out of memory (" + ex.getMessage() + "); give Java more memory (e.g. JAVA_TOOL_OPTIONS=-Xmx8g) "
                    + "or work on smaller inputs";
        }
        if (ex instanceof Error) {
            return "internal error: " + ex + " (run with --stacktrace and report it)";
        }
        String m = ex.getMessage();
        if (ex instanceof UncheckedIOException && ex.getCause() != null) {
            m = ex.getCause().toString();
        }
        return m == null || m.isBlank() ? ex.toString() : m;
    }

    static int exitCode(Throwable ex) {
        if (ex instanceof dev.dyepack.manifest.UntrustedRecordException) {
            return ExitCodes.VERIFY_FAILED;
        }
        if (ex instanceof InvalidArgumentException || ex instanceof InvalidInputException) {
            return ExitCodes.INVALID_INPUT;
        }
        if (ex instanceof NoGpuException) {
            return ExitCodes.NO_GPU;
        }
        if (ex instanceof CudaException || ex instanceof NativeLibraryException || ex instanceof UncheckedIOException
                || ex instanceof java.io.IOException || ex instanceof OutOfMemoryError) {
            return ExitCodes.FAILURE;
        }
        return ExitCodes.INTERNAL;
    }

    /**
     * Entry point.
     *
     * @param args command-line arguments
     */
    public static void main(String[] args) {
        // Previews draw with AWT; a server has no display, and none is needed.
        System.setProperty("java.awt.headless", "true");
        System.exit(commandLine().execute(args));
    }
}
