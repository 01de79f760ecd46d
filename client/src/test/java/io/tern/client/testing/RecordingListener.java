package io.tern.client.testing;

import io.tern.client.PushListener;
import io.tern.client.PushMessage;
import io.tern.protocol.frame.ReasonCode;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Records every callback; safe to read from the test thread. */
public final class RecordingListener implements PushListener {
    /** One onDisconnected call. */
    public record Disconnect(ReasonCode reason, String detail) {
    }

    private final List<PushMessage> messages = new CopyOnWriteArrayList<>();
    private final List<String> connected = new CopyOnWriteArrayList<>();
    private final List<Disconnect> disconnected = new CopyOnWriteArrayList<>();

    @Override
    public void onMessage(PushMessage message) {
        messages.add(message);
    }

    @Override
    public void onConnected(String broker) {
        connected.add(broker);
    }

    @Override
    public void onDisconnected(ReasonCode reason, String detail) {
        disconnected.add(new Disconnect(reason, detail));
    }

    public List<PushMessage> messages() {
        return messages;
    }

    public List<Long> msgIds() {
        return messages.stream().map(PushMessage::msgId).toList();
    }

    public List<String> connected() {
        return connected;
    }

    public List<Disconnect> disconnected() {
        return disconnected;
    }
}
