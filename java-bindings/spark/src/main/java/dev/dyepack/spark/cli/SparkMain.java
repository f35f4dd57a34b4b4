package dev.dyepack.spark.cli;

import dev.dyepack.DyePackException;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.key.OwnerKey;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The Spark module's command line, run by {@code ./dyepack spark ...} and {@code ./dyepack convert ...},
 * and by {@code spark-submit} with the module's jar and the same arguments: {@code poison}, {@code convert},
 * {@code bench}. Parses, calls the library, prints; errors are one line {@code dyepack: <message>} with
 * the core CLI's exit codes (0 ok, 1 failure, 2 invalid input, 70 internal).
 */
@Command(name = "dyepack spark", mixinStandardHelpOptions = true,
        description = "Poison Parquet datasets on Apache Spark with the same bytes as one machine; convert between "
                + "DyePack's formats and Parquet.",
        subcommands = {SparkPoisonCommand.class, ConvertCommand.class, SparkBenchCommand.class,
            CommandLine.HelpCommand.class},
        footer = {"", "Examples:",
            "  dyepack convert --data images.npy --labels labels.npy --out data.parquet",
            "  dyepack spark poison --master local[4] --data data.parquet --trigger blend:alpha=0.2,pattern=noise "
                + "--target 0 --key-file owner.key --out poisoned/",
            "  spark-submit --master yarn java-bindings/spark/target/dyepack-spark.jar poison --data ... --out ..."})
public final class SparkMain implements Runnable {
    /** Exit codes, as the core CLI's. */
    static final int OK = 0;
    static final int FAILURE = 1;
    static final int INVALID_INPUT = 2;
    static final int INTERNAL = 70;

    final Map<String, String> env;

    @Option(names = "--stacktrace", scope = CommandLine.ScopeType.INHERIT,
            description = "Print the stack trace of an error, not just its message.")
    boolean stacktrace;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    SparkMain(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand (poison, convert or bench)");
    }

    /**
     * @param env the environment to read DYEPACK_KEY from
     * @return the command line with DyePack's error handling
     */
    public static CommandLine commandLine(Map<String, String> env) {
        CommandLine cl = new CommandLine(new SparkMain(env));
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setParameterExceptionHandler((ex, args) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            String secret = secretOnCommandLine(args);
            // picocli's message would quote every unmatched argument, a key typed on the command line among them.
            err.println("dyepack: " + (secret == null ? ex.getMessage() : "a secret is never given on the command line ("
                    + secret + " is not an option): put the key in a file and give --key-file FILE, or set "
                    + OwnerKey.ENV_VAR));
            err.flush();
            return INVALID_INPUT;
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            Throwable cause = domainCause(ex).orElse(ex);
            err.println("dyepack: " + firstLine(cause));
            if (parseResult.hasMatchedOption("--stacktrace") || hasStacktrace(parseResult)) {
                ex.printStackTrace(err);
            }
            err.flush();
            return exitCode(cause);
        });
        return cl;
    }

    /** The option name under which an argument looks like a secret, or null. */
    private static String secretOnCommandLine(String[] args) {
        for (String a : args) {
            String name = a == null ? "" : a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            if (name.equals("--key") || name.equals("--owner-key") || name.equals("--secret") || name.equals("-k")) {
                return name;
            }
        }
        return null;
    }

    private static boolean hasStacktrace(CommandLine.ParseResult p) {
        for (CommandLine.ParseResult r = p; r != null; r = r.subcommand()) {
            if (r.hasMatchedOption("--stacktrace")) {
                return true;
            }
        }
        return false;
    }

    /** The DyePack exception behind a failure, also when a Spark task threw it on an executor. */
    static Optional<Throwable> domainCause(Throwable ex) {
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (t instanceof DyePackException || t instanceof IOException) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    private static String firstLine(Throwable t) {
        String m = t.getMessage() == null ? t.toString() : t.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    static int exitCode(Throwable t) {
        if (t instanceof InvalidArgumentException || t instanceof InvalidInputException) {
            return INVALID_INPUT;
        }
        if (t instanceof IOException) {
            return FAILURE;
        }
        return INTERNAL;
    }

    /**
     * The session: the master given, else the one spark-submit set, else local with every core. Spark's
     * web UI is off for local runs.
     *
     * @param master the --master value, or null
     * @param app    the application's name
     * @return the session
     */
    static SparkSession session(String master, String app) {
        SparkConf conf = new SparkConf();
        SparkSession.Builder b = SparkSession.builder().appName(app);
        String m = master != null ? master : conf.contains("spark.master") ? null : "local[*]";
        if (m != null) {
            b.master(m);
            if (m.startsWith("local")) {
                b.config("spark.ui.enabled", "false");
            }
        }
        return b.getOrCreate();
    }

    /**
     * The owner's key: from the file, else DYEPACK_KEY; never from an argument.
     *
     * @param keyFile the --key-file, or null
     * @param env     the environment
     * @param err     where the key's fingerprint is said
     * @return the key, or null
     */
    static OwnerKey key(java.nio.file.Path keyFile, Map<String, String> env, PrintWriter err) {
        Optional<OwnerKey> key = OwnerKey.resolve(keyFile, env);
        key.ifPresent(k -> err.println("key: " + k.fingerprint() + (keyFile != null ? " (from " + keyFile + ")"
                : " (from " + OwnerKey.ENV_VAR + ")")));
        return key.orElse(null);
    }

    /**
     * Entry point; {@code spark-submit} runs it with the same arguments as {@code ./dyepack spark}.
     *
     * @param args the arguments
     */
    public static void main(String[] args) {
        int code = commandLine(System.getenv()).execute(args);
        System.exit(code);
    }
}
