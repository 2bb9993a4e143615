namespace Lab.Figures.Animation;

/// <summary>
/// GIF's variable-length LZW. Codes start one bit wider than the minimum code size and grow up to 12 bits as
/// the table fills; when the 4096th code is taken the encoder sends a clear code and starts over. Codes are
/// packed least-significant bit first and the bytes cut into sub-blocks of at most 255, ended by a zero block.
/// </summary>
internal sealed class LzwEncoder
{
    private const int MaxCodes = 4096;
    private const int HashSize = 8191; // prime, about twice the table, so probes stay short

    // Open-addressing map from (prefix code, next byte) to the code of the longer string.
    private readonly int[] _keys = new int[HashSize];
    private readonly short[] _values = new short[HashSize];

    /// <summary>Compresses <paramref name="indices"/> (each below 2^minCodeSize) into GIF image data: the
    /// minimum-code-size byte, the sub-blocks, and the block terminator.</summary>
    public void Encode(Stream output, ReadOnlySpan<byte> indices, int minCodeSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minCodeSize, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minCodeSize, 8);
        output.WriteByte((byte)minCodeSize);
        var bits = new BitPacker(output);

        int clear = 1 << minCodeSize, end = clear + 1;
        int codeSize = minCodeSize + 1, next = clear + 2;
        Reset();
        bits.Write(clear, codeSize);

        if (indices.Length > 0)
        {
            int prefix = indices[0];
            for (int i = 1; i < indices.Length; i++)
            {
                int k = indices[i];
                int key = (prefix << 8 | k) + 1; // + 1 so that 0 marks an empty slot
                int slot = Find(key);
                if (_keys[slot] == key)
                {
                    prefix = _values[slot];
                    continue;
                }
                bits.Write(prefix, codeSize);
                _keys[slot] = key;
                _values[slot] = (short)next++;
                // The decoder adds its entries one code later, so it widens after reading the code that
                // follows this one: widen once the code just added no longer fits.
                if (next - 1 == 1 << codeSize && codeSize < 12)
                {
                    codeSize++;
                }
                if (next == MaxCodes)
                {
                    bits.Write(clear, codeSize);
                    Reset();
                    codeSize = minCodeSize + 1;
                    next = clear + 2;
                }
                prefix = k;
            }
            bits.Write(prefix, codeSize);
        }
        bits.Write(end, codeSize);
        bits.Flush();
        output.WriteByte(0);
    }

    private void Reset() => Array.Clear(_keys);

    private int Find(int key)
    {
        int slot = (int)((uint)key * 2654435761u % HashSize);
        while (_keys[slot] != 0 && _keys[slot] != key)
        {
            slot = slot + 1 == HashSize ? 0 : slot + 1;
        }
        return slot;
    }

    /// <summary>Packs codes LSB-first into 255-byte sub-blocks.</summary>
    private sealed class BitPacker(Stream output)
    {
        private readonly byte[] _block = new byte[255];
        private int _count;
        private int _accumulator;
        private int _bits;

        public void Write(int code, int width)
        {
            _accumulator |= code << _bits;
            _bits += width;
            while (_bits >= 8)
            {
                Put((byte)_accumulator);
                _accumulator >>= 8;
                _bits -= 8;
            }
        }

        public void Flush()
        {
            if (_bits > 0)
            {
                Put((byte)_accumulator);
                _accumulator = 0;
                _bits = 0;
            }
            if (_count > 0)
            {
                output.WriteByte((byte)_count);
                output.Write(_block, 0, _count);
                _count = 0;
            }
        }

        private void Put(byte b)
        {
            _block[_count++] = b;
            if (_count == 255)
            {
                output.WriteByte(255);
                output.Write(_block, 0, 255);
                _count = 0;
            }
        }
    }
}
