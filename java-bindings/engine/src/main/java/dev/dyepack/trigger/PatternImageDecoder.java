package dev.dyepack.trigger;

import dev.dyepack.InvalidInputException;
import dev.dyepack.Layout;
import java.nio.file.Path;


/**
 * Decodes the picture files that image patterns name ({@code patch:pattern=image,image=FILE},
 * {@code blend:image=FILE}). The engine reads no file formats itself: the implementation comes from
 * the {@code dyepack-data} module through {@link java.util.ServiceLoader}, so a program that uses only
 * generated patterns needs nothing beside the engine jar.
 *
 * <p>Implementations must be thread-safe and must refuse damaged, truncated or oversized files with
 * an {@link InvalidInputException} that names the file.
 */
public interface PatternImageDecoder {

    /**
     * Decodes a picture into a pattern in the given channel count and layout, values in 0..255.
     *
     * @param file     the picture
     * @param channels the channel count wanted (1 or 3 convert; others must match the file)
     * @param layout   the order of the values
     * @return the pattern, with the picture's alpha if it has one
     * @throws InvalidInputException for a missing, unreadable, damaged or oversized file
     */
    ImagePattern decode(Path file, int channels, Layout layout);

}
