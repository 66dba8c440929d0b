//! Recording media: the audio a recording's URI serves without `.json`, as WAV (no extension or
//! `.wav`) or MP3 (`.mp3`). The emulator records no sound, so it serves silence of the
//! recording's length in a well-formed file of each format.

/// The formats a recording's media is served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MediaFormat {
    /// RIFF WAVE, 8 kHz mono 16-bit PCM: Twilio's default.
    Wav,
    /// MPEG-1 Layer III, 32 kHz mono at 32 kbit/s.
    Mp3,
}

/// Longest audio served, in seconds: the files stay small whatever a recording lasted.
const MAX_SECONDS: u64 = 10;
/// WAV samples per second.
const WAV_RATE: u32 = 8_000;
/// One silent MP3 frame: 1152 samples at 32 kHz (36 ms), 144 bytes at 32 kbit/s.
const MP3_FRAME_BYTES: usize = 144;
/// MP3 frames per 9 seconds (250 frames of 36 ms).
const MP3_FRAMES_PER_9_S: u64 = 250;

impl MediaFormat {
    /// The format a media path's last segment asks for, and the SID text before its extension:
    /// `RE….mp3` → MP3, `RE….wav` or bare `RE…` → WAV; `.json` and other extensions are not media.
    pub(crate) fn of_segment(segment: &str) -> Option<(&str, MediaFormat)> {
        if let Some(sid) = segment.strip_suffix(".mp3") {
            return Some((sid, MediaFormat::Mp3));
        }
        if let Some(sid) = segment.strip_suffix(".wav") {
            return Some((sid, MediaFormat::Wav));
        }
        (!segment.contains('.')).then_some((segment, MediaFormat::Wav))
    }

    /// The Content-Type the file is served with.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            MediaFormat::Wav => "audio/x-wav",
            MediaFormat::Mp3 => "audio/mpeg",
        }
    }

    /// A silent file of `seconds` (at most [`MAX_SECONDS`]; at least one frame or sample block).
    pub(crate) fn silence(self, seconds: u64) -> Vec<u8> {
        let seconds = seconds.min(MAX_SECONDS);
        match self {
            MediaFormat::Wav => wav(seconds),
            MediaFormat::Mp3 => mp3(seconds),
        }
    }
}

fn wav(seconds: u64) -> Vec<u8> {
    let data_len = (u64::from(WAV_RATE) * 2 * seconds) as u32;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes()); // the fmt chunk's size
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&WAV_RATE.to_le_bytes());
    out.extend_from_slice(&(WAV_RATE * 2).to_le_bytes()); // bytes per second
    out.extend_from_slice(&2u16.to_le_bytes()); // bytes per sample frame
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    out.resize(44 + data_len as usize, 0);
    out
}

fn mp3(seconds: u64) -> Vec<u8> {
    // Sync, MPEG-1, Layer III, no CRC; 32 kbit/s, 32 kHz, no padding; mono. Zero side information
    // and main data decode as silence.
    const HEADER: [u8; 4] = [0xFF, 0xFB, 0x18, 0xC0];
    let frames = (seconds * MP3_FRAMES_PER_9_S).div_ceil(9).max(1) as usize;
    let mut out = Vec::with_capacity(frames * MP3_FRAME_BYTES);
    for _ in 0..frames {
        out.extend_from_slice(&HEADER);
        out.resize(out.len() + MP3_FRAME_BYTES - HEADER.len(), 0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_names_its_format() {
        assert_eq!(MediaFormat::of_segment("RE1"), Some(("RE1", MediaFormat::Wav)));
        assert_eq!(MediaFormat::of_segment("RE1.wav"), Some(("RE1", MediaFormat::Wav)));
        assert_eq!(MediaFormat::of_segment("RE1.mp3"), Some(("RE1", MediaFormat::Mp3)));
        assert_eq!(MediaFormat::of_segment("RE1.json"), None);
        assert_eq!(MediaFormat::of_segment("RE1.ogg"), None);
    }

    #[test]
    fn wav_is_a_riff_file_of_the_length() {
        let two = MediaFormat::Wav.silence(2);
        assert_eq!(&two[..4], b"RIFF");
        assert_eq!(&two[8..16], b"WAVEfmt ");
        assert_eq!(two.len(), 44 + 8_000 * 2 * 2);
        assert_eq!(u32::from_le_bytes([two[4], two[5], two[6], two[7]]) as usize, two.len() - 8);
        assert_eq!(MediaFormat::Wav.silence(3_600).len(), 44 + 8_000 * 2 * 10, "capped");
    }

    #[test]
    fn mp3_is_whole_frames_of_the_length() {
        let nine = MediaFormat::Mp3.silence(9);
        assert_eq!(nine.len(), 250 * 144);
        assert!(nine.chunks(144).all(|f| f[..4] == [0xFF, 0xFB, 0x18, 0xC0]));
        assert_eq!(MediaFormat::Mp3.silence(0).len(), 144, "at least one frame");
    }
}
