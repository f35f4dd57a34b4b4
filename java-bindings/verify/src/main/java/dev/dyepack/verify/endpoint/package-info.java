/**
 * Black-box suspects: a prediction service reached over HTTP ({@link dev.dyepack.verify.endpoint.EndpointSuspect}
 * with {@link dev.dyepack.verify.endpoint.EndpointSettings}), its API key
 * ({@link dev.dyepack.verify.endpoint.ApiKey}), and a watch that verifies it on a schedule
 * ({@link dev.dyepack.verify.endpoint.Monitor}). Uses only the JDK's {@code java.net.http} client.
 */
package dev.dyepack.verify.endpoint;
