package io.botengine;

/**
 * Marker for every message that leaves the JVM: persisted events and snapshots, and commands sent
 * through Cluster Sharding. Bound to Akka's Jackson JSON serializer in {@code serialization.conf}.
 */
public interface JsonSerializable {}
