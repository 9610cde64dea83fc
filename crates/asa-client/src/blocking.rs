//! A blocking facade for programs without an async runtime: each call runs the async
//! client on a private current-thread runtime. Do not call it from inside a runtime.

use crate::params::{BatchRequest, ProductParams, SearchParams};
use crate::types::{Account, Batch, BatchList, Reply, Trace};
use crate::{Client, ClientBuilder, Error};
use asa_model::{Product, SearchBody};

pub struct BlockingClient {
    client: Client,
    rt: tokio::runtime::Runtime,
}

impl BlockingClient {
    /// From the environment and the credentials file, like [`Client::new`].
    pub fn new() -> Result<BlockingClient, Error> {
        Self::from_builder(ClientBuilder::new())
    }

    pub fn from_builder(b: ClientBuilder) -> Result<BlockingClient, Error> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Config(format!("runtime: {e}")))?;
        // reqwest binds its pool to the runtime that first uses it: build inside ours.
        let client = rt.block_on(async { b.build() })?;
        Ok(BlockingClient { client, rt })
    }

    pub fn product(&self, p: impl Into<ProductParams>) -> Result<Reply<Product>, Error> {
        self.rt.block_on(self.client.product(p))
    }
    pub fn search(&self, p: impl Into<SearchParams>) -> Result<Reply<SearchBody>, Error> {
        self.rt.block_on(self.client.search(p))
    }
    pub fn create_batch(&self, b: BatchRequest) -> Result<Reply<Batch>, Error> {
        self.rt.block_on(self.client.create_batch(b))
    }
    pub fn get_batch(&self, id: &str) -> Result<Reply<Batch>, Error> {
        self.rt.block_on(self.client.get_batch(id))
    }
    pub fn list_batches(&self, limit: Option<u32>) -> Result<Reply<BatchList>, Error> {
        self.rt.block_on(self.client.list_batches(limit))
    }
    pub fn account(&self) -> Result<Reply<Account>, Error> {
        self.rt.block_on(self.client.account())
    }
    pub fn trace(&self, request_id: &str) -> Result<Reply<Trace>, Error> {
        self.rt.block_on(self.client.trace(request_id))
    }
}
