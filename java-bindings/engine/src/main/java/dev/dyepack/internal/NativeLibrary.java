package dev.dyepack.internal;

import dev.dyepack.NativeLibraryException;
import org.bytedeco.javacpp.BytePointer;

/**
 * Loads the native library once and keeps the outcome. A load failure is not logged and forgotten:
 * it is attached as the cause to the exception of every call that needs the library.
 */
public final class NativeLibrary {
    private static final Throwable LOAD_FAILURE = load();

    private NativeLibrary() {}

    private static Throwable load() {
        try {
            Class.forName(DyePackNative.class.getName(), true, NativeLibrary.class.getClassLoader());
            int abi = DyePackNative.dp_abi_version();
            if (abi != ABI_VERSION) {
                return new IllegalStateException("libdyepack ABI version " + abi + " does not match the Java binding's "
                        + ABI_VERSION + "; rebuild both together");
            }
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    /** The C ABI version this binding was written against ({@code DP_ABI_VERSION}). */
    public static final int ABI_VERSION = 4;

    /**
     * Makes sure the native library is usable.
     *
     * @throws NativeLibraryException when it could not be loaded, with the original failure as cause
     */
    public static void require() {
        if (LOAD_FAILURE != null) {
            throw new NativeLibraryException("the DyePack native library could not be loaded on "
                    + System.getProperty("os.name") + "/" + System.getProperty("os.arch") + ": " + LOAD_FAILURE,
                    LOAD_FAILURE);
        }
    }

    /** @return whether the native library loaded */
    public static boolean isLoaded() {
        return LOAD_FAILURE == null;
    }

    /**
     * Reads a C string returned by the library.
     *
     * @param p the pointer (may be null)
     * @return its UTF-8 content, or "" for null
     */
    public static String string(BytePointer p) {
        if (p == null || p.isNull()) {
            return "";
        }
        // Up to the terminating NUL only: a pointer with a capacity would otherwise be read whole.
        byte[] bytes = new byte[(int) BytePointer.strlen(p)];
        p.get(bytes);
        return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
    }
}
