package dev.dyepack.image;

import dev.dyepack.Layout;
import dev.dyepack.trigger.ImagePattern;
import dev.dyepack.trigger.PatternImageDecoder;
import java.nio.file.Path;

/** Gives the engine's image patterns the project's one image codec ({@link Images#readPng}). */
public final class ImagesPatternDecoder implements PatternImageDecoder {
    /** Made by {@link java.util.ServiceLoader}. */
    public ImagesPatternDecoder() {}

    @Override
    public ImagePattern decode(Path file, int channels, Layout layout) {
        return Images.readPng(file, channels, layout);
    }
}
