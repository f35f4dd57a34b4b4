package dev.dyepack;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import org.bytedeco.javacpp.Loader;

/**
 * The JavaCPP version the engine runs with, against the one it was built with. Applications that
 * also use ND4J/DL4J 1.0.0-M2.1 (built with JavaCPP 1.5.7) get whichever JavaCPP their build resolves
 * first; {@code docs/integrations.md} shows how to pin one. The engine warns once, through
 * {@link System.Logger} (logger {@code dev.dyepack.Engine}, level WARNING; never on standard output),
 * when it runs on an older JavaCPP than {@link #BUILT_WITH}, since its generated JNI code may call
 * what an older runtime lacks.
 *
 * <p>Stateless apart from the warn-once flag; thread-safe.
 */
public final class JavaCppVersion {
    /** The JavaCPP version the engine was built and tested with (the build's {@code javacpp.version}). */
    public static final String BUILT_WITH = "1.5.14";

    private static final AtomicBoolean WARNED = new AtomicBoolean();

    private JavaCppVersion() {}

    /**
     * The JavaCPP version on the class path, from its jar's Maven metadata or manifest.
     *
     * @return the version, for example "1.5.14", or "unknown" when the jar carries none
     */
    public static String runtime() {
        try (InputStream in = Loader.class.getResourceAsStream("/META-INF/maven/org.bytedeco/javacpp/pom.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String v = p.getProperty("version");
                if (v != null && !v.isBlank()) {
                    return v.trim();
                }
            }
        } catch (IOException e) {
            // Fall through to the manifest.
        }
        String v = Loader.class.getPackage() == null ? null : Loader.class.getPackage().getImplementationVersion();
        return v == null || v.isBlank() ? "unknown" : v.trim();
    }

    /**
     * Compares dotted versions numerically, part by part ("1.5.7" &lt; "1.5.14"); a part that is not a
     * number ends the comparison there.
     *
     * @param a a version
     * @param b another
     * @return whether {@code a} is older than {@code b}; false when either is unknown
     */
    public static boolean isOlder(String a, String b) {
        if (a == null || b == null) {
            return false;
        }
        String[] x = a.split("[.-]");
        String[] y = b.split("[.-]");
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            long p;
            long q;
            try {
                p = i < x.length ? Long.parseLong(x[i]) : 0;
                q = i < y.length ? Long.parseLong(y[i]) : 0;
            } catch (NumberFormatException e) {
                return false;
            }
            if (p != q) {
                return p < q;
            }
        }
        return false;
    }

    /**
     * Logs one warning per JVM when the runtime JavaCPP is older than {@link #BUILT_WITH}.
     *
     * @param log where to log
     * @return whether this call logged the warning
     */
    static boolean warnOnceIfOlder(System.Logger log) {
        return warnOnceIfOlder(log, runtime(), WARNED);
    }

    /** As {@link #warnOnceIfOlder(System.Logger)}, with the runtime version and the flag given. */
    static boolean warnOnceIfOlder(System.Logger log, String runtime, AtomicBoolean warned) {
        if (!isOlder(runtime, BUILT_WITH) || !warned.compareAndSet(false, true)) {
            return false;
        }
        log.log(System.Logger.Level.WARNING, "DyePack was built with JavaCPP " + BUILT_WITH + " but runs with "
                + runtime + " (another dependency, such as ND4J/DL4J 1.0.0-M2.1, brought it first); pin "
                + "org.bytedeco:javacpp to " + BUILT_WITH + " as docs/integrations.md shows");
        return true;
    }
}
