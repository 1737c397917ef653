//! Row checksums: SQLite keeps no checksum of its pages, so a flipped byte in a stored alarm
//! reads back as a different, perfectly valid time (issue #16: an actor's alarm moved two
//! years later, silently). Every store row that decides when something fires carries a
//! CRC-32 of its table name and its fields, written with the row and checked whenever it is
//! read; a mismatch is [`crate::StoreError::Corrupted`], naming the file, table and row.
//!
//! The encoding is fixed (it is on disk): the table name, then per field a tag byte
//! (0 NULL, 1 integer, 2 text) and the value (integers as 8 little-endian bytes, text as its
//! length as 8 little-endian bytes and its UTF-8 bytes). The checksum is stored as an
//! INTEGER from 0 to 2³² − 1.

/// A checksum being built over one row.
pub struct RowSum(crc32fast::Hasher);

impl RowSum {
    pub fn new(table: &str) -> RowSum {
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(table.as_bytes());
        RowSum(hasher)
    }

    pub fn int(mut self, value: Option<i64>) -> RowSum {
        match value {
            None => self.0.update(&[0]),
            Some(v) => {
                self.0.update(&[1]);
                self.0.update(&v.to_le_bytes());
            }
        }
        self
    }

    pub fn text(mut self, value: Option<&str>) -> RowSum {
        match value {
            None => self.0.update(&[0]),
            Some(v) => {
                self.0.update(&[2]);
                self.0.update(&(v.len() as u64).to_le_bytes());
                self.0.update(v.as_bytes());
            }
        }
        self
    }

    pub fn finish(self) -> i64 {
        i64::from(self.0.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_and_its_position_counts() {
        let base = RowSum::new("t").text(Some("a1")).int(Some(5)).finish();
        assert_eq!(base, RowSum::new("t").text(Some("a1")).int(Some(5)).finish(), "deterministic");
        assert_ne!(base, RowSum::new("u").text(Some("a1")).int(Some(5)).finish(), "the table counts");
        assert_ne!(base, RowSum::new("t").text(Some("a2")).int(Some(5)).finish(), "the key counts");
        assert_ne!(base, RowSum::new("t").text(Some("a1")).int(Some(5 ^ (1 << 40))).finish(), "one flipped bit counts");
        assert_ne!(base, RowSum::new("t").text(Some("a1")).int(None).finish(), "NULL is not 0");
        assert_ne!(RowSum::new("t").text(Some("ab")).text(Some("c")).finish(), RowSum::new("t").text(Some("a")).text(Some("bc")).finish(), "fields do not run into each other");
        // The encoding is on disk: this value must never change.
        assert_eq!(RowSum::new("_cf_ALARM").text(Some("a1")).int(Some(1_000)).finish(), 1_834_922_239);
    }
}
