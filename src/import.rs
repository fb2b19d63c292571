//! TEMP stub until the seed branch lands.
use std::path::PathBuf;
pub struct ImportFiles {
    pub products: Option<PathBuf>,
    pub customers: Option<PathBuf>,
    pub orders: Option<PathBuf>,
    pub order_items: Option<PathBuf>,
}
pub struct ImportOptions {
    pub skip_invalid: bool,
    pub now: i64,
}
pub struct ImportReport {
    pub committed: bool,
}
impl std::fmt::Display for ImportReport {
    fn fmt(&self, _f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Ok(())
    }
}
pub async fn import_csv(
    _s: &crate::store::Store,
    _f: &ImportFiles,
    _o: &ImportOptions,
) -> anyhow::Result<ImportReport> {
    anyhow::bail!("todo")
}
