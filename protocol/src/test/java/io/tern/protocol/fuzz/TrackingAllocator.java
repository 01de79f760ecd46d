package io.tern.protocol.fuzz;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/** Records the largest buffer anything in a pipeline asked for, to prove a declared length is not trusted. */
final class TrackingAllocator extends AbstractByteBufAllocator {
    private int largest;

    TrackingAllocator() {
        super(false);
    }

    int largest() {
        return largest;
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        largest = Math.max(largest, initialCapacity);
        return Unpooled.buffer(initialCapacity, maxCapacity);
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        largest = Math.max(largest, initialCapacity);
        return Unpooled.directBuffer(initialCapacity, maxCapacity);
    }

    @Override
    public boolean isDirectBufferPooled() {
        return false;
    }
}
