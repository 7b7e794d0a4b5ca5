package io.botengine.webapp;

import java.time.Duration;

/**
 * The web event API's settings ({@code bot.webapp.*}): how old a Mini App's {@code initData} may
 * be, events kept per user on a serving node for {@code Last-Event-ID}, events a connection may
 * lag behind before it is reset, the heartbeat, how long a user's feed outlives its last
 * connection, and the subscription handshake's retry and timeout.
 */
public record WebAppSettings(
    Duration maxAuthAge,
    int eventsKept,
    int connectionBuffer,
    Duration heartbeat,
    Duration linger,
    Duration handshakeRetry,
    Duration handshakeTimeout) {}
