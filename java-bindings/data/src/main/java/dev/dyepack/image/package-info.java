/**
 * Pictures as triggers: {@link dev.dyepack.trigger.ImagePattern} (values plus optional alpha),
 * reading one from a PNG or JPEG, resizing it and turning float images back into pictures
 * ({@link dev.dyepack.image.Images}), and a preview grid of clean, triggered and difference images
 * ({@link dev.dyepack.image.ContactSheet}).
 *
 * <p>Unusable image files raise {@link dev.dyepack.InvalidInputException} naming the file; bad
 * parameters raise {@link dev.dyepack.InvalidArgumentException}. Only the JDK's
 * {@code javax.imageio} and {@code java.awt.image} are used; nothing needs a display, and the code
 * runs with {@code -Djava.awt.headless=true}.
 */
package dev.dyepack.image;
