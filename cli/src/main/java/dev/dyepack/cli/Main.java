package dev.dyepack.cli;

import dev.dyepack.CudaException;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.NativeLibraryException;
import dev.dyepack.NoGpuException;
import dev.dyepack.key.OwnerKey;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The {@code dyepack} command: subcommands parse, call the library, and print. */
@Command(name = "dyepack", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Protective data poisoning: plant and prove keyed backdoor watermarks.",
        footer = {"", "Examples:",
            "  dyepack info",
            "  dyepack apply --trigger patch:size=3,pos=br,value=255 --out stamped.npy",
            "  dyepack apply --data images.npy --indices picked.txt --trigger patch:size=4,pos=tl --out out.npy",
            "  DYEPACK_KEY=... dyepack preview --trigger warp:k=4,s=0.5 --out sheet.png"})
public final class Main implements Runnable {
    /**
     * The subcommands by name, in the order the help lists them; each is made, and its picocli model built, only
     * when a command line needs it (see {@link #commandLine(Map, String...)}).
     */
    static final Map<String, Supplier<Object>> SUBCOMMANDS = subcommands();

    private static Map<String, Supplier<Object>> subcommands() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        m.put("info", InfoCommand::new);
        m.put("triggers", TriggersCommand::new);
        m.put("apply", ApplyCommand::new);
        m.put("preview", PreviewCommand::new);
        m.put("score", ScoreCommand::new);
        m.put("poison", PoisonCommand::new);
        m.put("manifest", ManifestCommand::new);
        m.put("probe-set", ProbeSetCommand::new);
        m.put("verify", VerifyCommand::new);
        m.put("mark", MarkCommand::new);
        m.put("serve", ServeCommand::new);
        m.put("monitor", MonitorCommand::new);
        m.put("bench", BenchCommand::new);
        m.put("help", CommandLine.HelpCommand::new);
        return Collections.unmodifiableMap(m);
    }

    /** The environment the commands read DYEPACK_KEY from (the process's, or a test's). */
    final Map<String, String> env;

    Main(Map<String, String> env) {
        this.env = env;
    }

    @Option(names = "--stacktrace", scope = ScopeType.INHERIT,
            description = "Print the stack trace of an error, not just its message.")
    boolean stacktrace;

    @Option(names = {"-q", "--quiet"}, scope = ScopeType.INHERIT,
            description = "Print no informational lines (key, backend, progress) on standard error; warnings and "
                    + "the error line still appear.")
    boolean quiet;

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
     * Java {@link Error}s thrown by a command (out of memory, a stack overflow) get the same one line,
     * with a hint to rerun with {@code --stacktrace}, and exit {@link ExitCodes#INTERNAL}: every input is
     * checked against {@link dev.dyepack.io.Limits} first, so an Error is a defect, not bad input.
     * {@code --quiet} drops the informational lines from standard error (see {@code QuietWriter}).
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
        return commandLine(env, new String[0]);
    }

    /**
     * As {@link #commandLine(Map)}, for one run on the arguments {@code run}: when the first argument names a subcommand
     * (other than {@code help}), only that subcommand is built. picocli builds every command's model up front
     * (its options, mixins, converters and help texts, by reflection), and the whole tree was a third of the
     * time a short run took from start to exit; anything else (no arguments, a global option first, a mistyped
     * name, help) gets the whole tree, so help, suggestions and errors are what they always were.
     *
     * @param env  the environment
     * @param run  the arguments the command line will execute
     * @return the configured command line
     */
    public static CommandLine commandLine(Map<String, String> env, String... run) {
        CommandLine cl = new CommandLine(new Main(env));
        String first = run.length > 0 ? run[0] : null;
        if (first != null && !first.equals("help") && SUBCOMMANDS.containsKey(first)) {
            cl.addSubcommand(first, SUBCOMMANDS.get(first).get());
        } else {
            SUBCOMMANDS.forEach((name, make) -> cl.addSubcommand(name, make.get()));
        }
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        // Integer.parseInt takes any Unicode digit (full-width '３' is 3); a number on the command line
        // is ASCII digits only, so what is recorded is what was typed.
        cl.registerConverter(Integer.class, Main::asciiInt);
        cl.registerConverter(Integer.TYPE, Main::asciiInt);
        cl.registerConverter(Long.class, Main::asciiLong);
        cl.registerConverter(Long.TYPE, Main::asciiLong);
        cl.setParameterExceptionHandler((ex, args) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            String secret = secretOnCommandLine(args);
            // A key typed as an argument is refused without repeating it: picocli's own message would
            // quote every unmatched argument, the key among them.
            String message = secret != null ? "a secret is never given on the command line (" + secret + " is not an "
                    + "option): put the key in a file and give --key-file FILE, or set " + OwnerKey.ENV_VAR
                    + " (for an endpoint's API key: --api-key-file FILE or DYEPACK_API_KEY)" : ex.getMessage();
            // One line, the last: the hint to the help goes on it.
            err.println("dyepack: " + message + " (see: dyepack " + subcommandPath(ex.getCommandLine()) + "--help)");
            err.flush();
            return ExitCodes.INVALID_INPUT;
        });
        CommandLine.IExecutionStrategy runLast = new CommandLine.RunLast();
        cl.setExecutionStrategy(parseResult -> {
            if (quiet(parseResult)) {
                for (CommandLine.ParseResult p = parseResult; p != null; p = p.subcommand()) {
                    p.commandSpec().commandLine().setErr(QuietWriter.over(p.commandSpec().commandLine().getErr()));
                }
            }
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

    static long asciiLong(String text) {
        if (text == null || !text.matches("-?[0-9]{1,19}")) {
            throw new CommandLine.TypeConversionException("'" + text + "' is not an integer (ASCII digits 0-9)");
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("'" + text + "' is outside the 64-bit range");
        }
    }

    static int asciiInt(String text) {
        long v = asciiLong(text);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new CommandLine.TypeConversionException("'" + text + "' is outside the range of a 32-bit integer");
        }
        return (int) v;
    }

    private static CommandLine.ParseResult deepest(CommandLine.ParseResult pr) {
        CommandLine.ParseResult p = pr;
        while (p.subcommand() != null) {
            p = p.subcommand();
        }
        return p;
    }

    /**
     * The option a secret was typed with ({@code --key}, {@code --key=...}, {@code --api-key}, ...), never
     * the secret itself; null when there is none.
     */
    static String secretOnCommandLine(String[] args) {
        for (String a : args) {
            if (a == null) {
                continue;
            }
            String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            switch (name) {
                case "--key", "--owner-key", "--secret", "--api-key", "-k" -> {
                    return name;
                }
                default -> {
                }
            }
        }
        return null;
    }

    private static boolean quiet(CommandLine.ParseResult pr) {
        for (CommandLine.ParseResult p = pr; p != null; p = p.subcommand()) {
            if (p.matchedOption("--quiet") != null) {
                return true;
            }
        }
        return false;
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
            return "internal error: out of memory (" + ex.getMessage() + "); an input passed the limits "
                    + "(dev.dyepack.io.Limits) but needed more than this JVM has: give Java more memory "
                    + "(DYEPACK_JAVA_OPTS=-Xmx8g) or lower a limit; rerun with --stacktrace and report it";
        }
        if (ex instanceof Error) {
            return "internal error: " + ex + "; rerun with --stacktrace and report it";
        }
        if (ex instanceof java.nio.file.InvalidPathException ipe) {
            return "the path \"" + ipe.getInput() + "\" cannot be used: " + ipe.getReason()
                    + (ipe.getReason().contains("unmappable") || ipe.getReason().contains("Malformed")
                            ? " (the locale's file-name encoding cannot hold it: run with LANG=C.UTF-8)" : "");
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
        if (ex instanceof InvalidArgumentException || ex instanceof InvalidInputException
                || ex instanceof java.nio.file.InvalidPathException) {
            return ExitCodes.INVALID_INPUT;
        }
        if (ex instanceof NoGpuException) {
            return ExitCodes.NO_GPU;
        }
        if (ex instanceof CudaException || ex instanceof NativeLibraryException || ex instanceof UncheckedIOException
                || ex instanceof java.io.IOException) {
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
        warmUp(args);
        System.exit(commandLine(System.getenv(), args).execute(args));
    }

    /** The commands that stream a dataset through the engine, whose time a user compares with a copy's. */
    private static final java.util.Set<String> STREAMING = java.util.Set.of("apply", "poison");

    /**
     * For the streaming commands, loads the native library on a second thread while this one parses the command
     * line (picocli reflects over the command's annotations for about a tenth of a second; loading the
     * library and its classes takes about a twentieth, and the two overlap on any machine with two cores:
     * docs/benchmarks.md). The first use of the library waits for that load to finish (the JVM's class
     * initialisation lock), and a failure is kept and reported there, as without this.
     */
    private static void warmUp(String[] args) {
        if (args.length == 0 || !STREAMING.contains(args[0])) {
            return;
        }
        Thread t = new Thread(dev.dyepack.Engine::preloadLibrary, "dyepack-load");
        t.setDaemon(true);
        t.start();
    }
}
