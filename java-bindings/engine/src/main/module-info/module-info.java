/**
 * The DyePack engine: the native trigger engine (CPU and CUDA) and the Java API above it. Depends on
 * JavaCPP alone. {@code dev.dyepack.internal}, the JavaCPP binding, is not exported.
 */
module dev.dyepack.engine {
    requires transitive org.bytedeco.javacpp;

    exports dev.dyepack;
    exports dev.dyepack.key;
    exports dev.dyepack.select;
    exports dev.dyepack.surrogate;
    exports dev.dyepack.trigger;

    // JavaCPP reads the binding's annotations and loads its JNI glue by reflection.
    opens dev.dyepack.internal to org.bytedeco.javacpp;

    // Pattern pictures are decoded by a provider (the data module's).
    uses dev.dyepack.trigger.PatternImageDecoder;
}
