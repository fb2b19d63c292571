//! Store analytics that turn the order history into decisions staff can act on: fraud
//! scores with their reasons, demand forecasts and restock suggestions, repricing
//! suggestions, and co-purchase recommendations. Each explains itself in plain words; none
//! acts on its own except through the tools (and so through the permission layer).

pub mod forecast;
pub mod fraud;
pub mod incidents;
pub mod pricing;
pub mod recommend;
