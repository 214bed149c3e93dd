//! API groups. (Creating and editing them arrives with the API definitions issue; the console
//! shell lists them.)

use crate::entity::api_group;
use crate::{Control, ControlError};
use sea_orm::{EntityTrait, QueryOrder};
use serde::{Deserialize, Serialize};

/// A group as lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSummary {
    /// Unique name.
    pub name: String,
    /// DNS label the group answers on under the base domain.
    pub subdomain: String,
    /// Free text.
    pub description: String,
}

impl Control {
    /// Every group, by name.
    pub async fn list_groups(&self) -> Result<Vec<GroupSummary>, ControlError> {
        let groups = api_group::Entity::find().order_by_asc(api_group::Column::Name).all(self.db()).await?;
        Ok(groups
            .into_iter()
            .map(|g| GroupSummary { name: g.name, subdomain: g.subdomain, description: g.description })
            .collect())
    }
}
