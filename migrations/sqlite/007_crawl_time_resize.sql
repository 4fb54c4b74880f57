-- Resizing at crawl time: a job may carry a resize spec (the export's `resize` object: size, mode, only_if_bigger,
-- encode, quality), and each image it accepts then keeps its derivative, stored content-addressed in the blob store
-- beside the original: its SHA-256, size in bytes and dimensions, and the original's dimensions as displayed (after
-- EXIF orientation), which the export manifest reports. Nullable columns only: ADD COLUMN without a default is
-- instant, even on huge tables. The partial index serves `pixcrawl fsck` and `gc`, which ask whether a blob is
-- referenced; building it reads the table once.
ALTER TABLE crawl_jobs ADD COLUMN resize TEXT CHECK (resize IS NULL OR json_valid(resize));

ALTER TABLE images ADD COLUMN derivative_sha256 TEXT;
ALTER TABLE images ADD COLUMN derivative_size INTEGER;
ALTER TABLE images ADD COLUMN derivative_width INTEGER;
ALTER TABLE images ADD COLUMN derivative_height INTEGER;
ALTER TABLE images ADD COLUMN derivative_original_width INTEGER;
ALTER TABLE images ADD COLUMN derivative_original_height INTEGER;
CREATE INDEX ix_images_derivative_sha256 ON images(derivative_sha256) WHERE derivative_sha256 IS NOT NULL;
