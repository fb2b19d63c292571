//! TEMP stub until the seed branch lands.
pub struct SeedOptions {
    pub seed: u64,
}
impl SeedOptions {
    pub fn demo(_now: i64) -> Self {
        SeedOptions { seed: 42 }
    }
}
pub struct SeedReport {
    pub planted: Vec<i64>,
}
impl std::fmt::Display for SeedReport {
    fn fmt(&self, _f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Ok(())
    }
}
pub async fn seed_demo(
    _s: &crate::store::Store,
    _o: &SeedOptions,
    _p: &(dyn Fn(&str) + Sync),
) -> anyhow::Result<SeedReport> {
    anyhow::bail!("todo")
}
