package io.botengine.telegram;

import akka.Done;
import java.util.concurrent.CompletionStage;

/** Hands an update to its user's actor; completes once the actor has accepted it. */
@FunctionalInterface
public interface UserDirectory {
  CompletionStage<Done> deliver(Inbound update);
}
