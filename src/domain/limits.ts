// Protocol constants (PROTOCOL.md). Limits that operators tune live in the configuration (docs/requirements.md#configuration);
// these are the hard bounds of the wire format itself.

/** Noise §3: a Noise message (and so a transport record) is at most 65535 bytes. */
export const MAX_NOISE_MESSAGE = 65_535;
/** AES-GCM tag length. */
export const AEAD_TAG_LENGTH = 16;
/** Largest plaintext one record can carry. */
export const MAX_RECORD_PLAINTEXT = MAX_NOISE_MESSAGE - AEAD_TAG_LENGTH;

/** Piece sizes a manifest may declare. The upper bound keeps zstd-codec below its ~4 MiB input limit. */
export const MIN_PIECE_SIZE = 16 * 1024;
export const MAX_PIECE_SIZE = 2 * 1024 * 1024;
export const DEFAULT_PIECE_SIZE = 1024 * 1024;

/** File names are bounded in UTF-8 bytes (docs/requirements.md#files): 255 is the common file-system limit. */
export const MAX_FILE_NAME_BYTES = 255;

/** Largest inner message that is not a piece (ACK, NACK, CLOSE, ACCEPT with its bitfield). */
export const MAX_CONTROL_MESSAGE = 64 * 1024 + 64;

/**
 * Pieces the sender keeps in flight before it has measured the path, and never fewer
 * (docs/PERFORMANCE.md#the-window): enough for loopback and a LAN with ACKs batched by four.
 */
export const DEFAULT_PIPELINE_WINDOW = 16;
/**
 * Bytes (of raw piece size) the adaptive window keeps in flight at most: twice the
 * bandwidth-delay product of a 10 Gbit/s path with a 100 ms round trip. In-flight pieces cost the
 * sender a few numbers each; their bytes wait in the kernel's socket buffers, which the kernel
 * bounds.
 */
export const MAX_PIPELINE_BYTES = 256 * 1024 * 1024;
/** How many times one piece may be NACKed before the transfer fails (docs/requirements.md#durability). */
export const MAX_PIECE_RETRIES = 3;

/**
 * Durability policy of the receiver (docs/requirements.md#durability): written pieces are made durable (fdatasync) and
 * recorded as done in one database transaction every DURABLE_BATCH_PIECES pieces or
 * DURABLE_BATCH_MS milliseconds, whichever comes first, and always before the session ends.
 * A crash loses at most the last batch, which a resume sends again.
 */
export const DURABLE_BATCH_PIECES = 32;
export const DURABLE_BATCH_MS = 1000;

/** How long the receiver keeps discarding input after it sent CLOSE, so the reason arrives. */
export const CLOSE_LINGER_MS = 2000;

/**
 * The receiver's ACKs go out in batches: every ACK_BATCH messages, or ACK_DELAY_MS after the
 * first one waiting, whichever comes first (a NACK, VERIFIED or CLOSE takes the waiting ones
 * with it, in order). One socket write per ACK cost the receiver about 0.4 s of a 1 GiB send
 * over loopback (`node --cpu-prof`: writeBuffer); batches of four leave the sender's window of
 * sixteen pieces at least twelve deep.
 */
export const ACK_BATCH = 4;
export const ACK_DELAY_MS = 20;

/**
 * Bounds of a folder's entry list (docs/folders.md#names): a path inside the folder is at most
 * MAX_TREE_PATH_BYTES of UTF-8 and MAX_TREE_DEPTH components deep, so the receiver's own path
 * stays well inside PATH_MAX; the encoded list is at most MAX_TREE_LIST_BYTES whatever the
 * entry count, which bounds what one session may make the receiver hold before ACCEPT.
 */
export const MAX_TREE_PATH_BYTES = 2048;
export const MAX_TREE_DEPTH = 64;
export const MAX_TREE_LIST_BYTES = 16 * 1024 * 1024;
/** ST_MAX_FILES: the entries (files and folders) one transfer may have, unless configured otherwise. */
export const DEFAULT_MAX_FILES = 100_000;
