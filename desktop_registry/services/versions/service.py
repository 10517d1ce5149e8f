"""Slots (roles such as "text embedding") with versions, exactly one active, switch and rollback.

Every read goes to the database, so whatever resolves a model through a slot sees a switch at
once; never switches to an incompatible version without the user's explicit acknowledgement.
"""

from __future__ import annotations

import getpass
import re
from typing import Any

from desktop_registry.domain import Capability, ModelRecord
from desktop_registry.domain.versions import Slot, SlotChange, SlotVersion
from desktop_registry.errors import NotFoundError, RegistryError, UserInputError
from desktop_registry.storage.repository import ModelRepository
from desktop_registry.storage.slots import SlotRepository
from desktop_registry.tracking.mlflow import MlflowTracker, registered_name

CHAMPION = "champion"
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"
)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "unknown"


def slot_registered_name(slot: str) -> str:
    return registered_name(f"slot-{slot}")


class VersionService:
    """create_slot / add_version / switch / rollback / history / active_model."""

    def __init__(
        self,
        models: ModelRepository,
        slots: SlotRepository,
        tracker: MlflowTracker | None = None,
        *,
        actor: str | None = None,
    ) -> None:
        self.models = models
        self.slots = slots
        self.tracker = tracker
        self.actor = actor or _user()

    # ----- slots and versions ---------------------------------------------------------------
    def create_slot(self, name: str, capability: str, description: str = "") -> Slot:
        name = name.strip()
        if not name:
            raise UserInputError("name: a slot needs a name, e.g. 'text embedding'.")
        if capability not in {c.value for c in Capability}:
            raise UserInputError(
                f"capability: {capability!r} is not a capability "
                f"(choose {', '.join(c.value for c in Capability)})."
            )
        return self.slots.create_slot(name, capability, description)

    def add_version(
        self,
        slot_name: str,
        model: str | ModelRecord,
        version: str,
        *,
        config: dict[str, Any] | None = None,
        checkpoint_digest: str | None = None,
    ) -> SlotVersion:
        slot = self.slots.slot(slot_name)
        if not _SEMVER.match(version):
            raise UserInputError(f"version: {version!r} is not a semantic version like 1.2.0.")
        record = self._model(model)
        self._check_capability(slot, record)
        added = self.slots.add_version(
            slot,
            model_id=record.id or 0,
            version=version,
            config=dict(config or {}),
            checkpoint_digest=checkpoint_digest if checkpoint_digest is not None else record.digest,
            actor=self.actor,
        )
        if self.tracker is not None:
            mlflow_version = self._register(slot, added, record)
            self.slots.set_mlflow_version(added.id, mlflow_version)
            if added.active:
                self.tracker.set_alias(slot_registered_name(slot.name), CHAMPION, mlflow_version)
            added = added.model_copy(update={"mlflow_version": mlflow_version})
        return added

    def slot_names(self) -> list[str]:
        return [slot.name for slot in self.slots.slots()]

    def slot(self, name: str) -> Slot:
        return self.slots.slot(name)

    def versions(self, slot_name: str) -> list[SlotVersion]:
        return self.slots.versions(self.slots.slot(slot_name).id)

    def active(self, slot_name: str) -> SlotVersion:
        slot = self.slots.slot(slot_name)
        found = self.slots.active(slot.id)
        if found is None:
            raise NotFoundError(f"Slot {slot_name!r} has no version yet; add one first.")
        return found

    def active_model(self, slot_name: str) -> ModelRecord:
        """The model behind the slot right now (read fresh: a switch shows without restart)."""
        return self.models.get(self.active(slot_name).model_id)

    def history(self, slot_name: str) -> list[SlotChange]:
        return self.slots.history(self.slots.slot(slot_name).name)

    # ----- switching ----------------------------------------------------------------------
    def switch(
        self,
        slot_name: str,
        version: str,
        *,
        reason: str = "",
        actor: str | None = None,
        acknowledge_reindex: bool = False,
    ) -> SlotChange:
        slot = self.slots.slot(slot_name)
        target = self.slots.version(slot.id, version)
        if target is None:
            known = ", ".join(v.version for v in self.slots.versions(slot.id)) or "none"
            raise UserInputError(f"version: slot {slot.name!r} has no version {version} ({known}).")
        return self._move(slot, target, "slot_switch", reason, actor, acknowledge_reindex)

    def rollback(
        self,
        slot_name: str,
        *,
        reason: str = "",
        actor: str | None = None,
        acknowledge_reindex: bool = False,
    ) -> SlotChange:
        """Restore the version that was active before the latest switch or rollback."""
        slot = self.slots.slot(slot_name)
        changes = self.slots.history(slot.name)
        previous = changes[-1].from_version if changes else None
        if previous is None:
            raise UserInputError(
                f"Slot {slot.name!r} has never been switched; nothing to roll back."
            )
        target = self.slots.version(slot.id, previous)
        if target is None:
            raise NotFoundError(f"Version {previous} of slot {slot.name!r} no longer exists.")
        return self._move(slot, target, "slot_rollback", reason, actor, acknowledge_reindex)

    def _move(
        self,
        slot: Slot,
        target: SlotVersion,
        action: str,
        reason: str,
        actor: str | None,
        acknowledge_reindex: bool,
    ) -> SlotChange:
        current = self.slots.active(slot.id)
        if current is not None and current.id == target.id:
            # A switch killed after its commit but before MLflow heard of it: running it
            # again must still move the alias, or nothing on the command line ever would.
            self.mirror_alias(slot.name)
            raise UserInputError(f"Version {target.version} is already active in {slot.name!r}.")
        record = self.models.get(target.model_id)
        self._check_capability(slot, record)
        detail: dict[str, Any] = {"to_model": record.name}
        if current is not None:
            detail["from_model"] = current.model_name
            detail.update(self._check_embedding(slot, current, record, acknowledge_reindex))
        change = self.slots.activate(
            slot,
            expected_active=current,
            target=target,
            action=action,
            actor=actor or self.actor,
            reason=reason,
            detail=detail,
        )
        self.mirror_alias(slot.name)
        return change

    def _check_capability(self, slot: Slot, record: ModelRecord) -> None:
        if slot.capability not in record.capabilities:
            raise UserInputError(
                f"model: {record.name} does not have the {slot.capability!r} capability that "
                f"slot {slot.name!r} needs (it has {', '.join(record.capabilities) or 'none'})."
            )

    def _check_embedding(
        self, slot: Slot, current: SlotVersion, record: ModelRecord, acknowledged: bool
    ) -> dict[str, Any]:
        if slot.capability != Capability.EMBEDDING.value:
            return {}
        before = self.models.get(current.model_id).details.embedding_length
        after = record.details.embedding_length
        if before is not None and before == after:
            return {}
        if not acknowledged:
            raise UserInputError(
                f"reindex: {record.name} makes {after or 'unknown'}-dimensional embeddings, "
                f"the active {current.model_name} {before or 'unknown'}-dimensional ones. Vectors "
                "stored with the old model must be re-indexed; confirm the re-index to switch."
            )
        return {"reindex_acknowledged": True, "dimension_from": before, "dimension_to": after}

    # ----- MLflow -------------------------------------------------------------------------
    def _register(self, slot: Slot, version: SlotVersion, record: ModelRecord) -> str:
        assert self.tracker is not None
        run_id = str((record.parameters.get("mlflow") or {}).get("run_id") or "") or None
        source = (
            f"runs:/{run_id}/recipe.json"
            if run_id
            else f"desktop-registry://{record.source.value}/{record.name}"
        )
        return self.tracker.register_version(
            slot_registered_name(slot.name),
            source=source,
            run_id=run_id,
            tags={
                "slot": slot.name,
                "semver": version.version,
                "registry_model": record.name,
                "checkpoint_digest": version.checkpoint_digest,
            },
        )

    def mirror_alias(self, slot_name: str) -> str | None:
        """Point MLflow's `champion` alias at the active version (also repairs drift after a crash).

        Returns the MLflow version the alias names, or None without tracking.
        """
        if self.tracker is None:
            return None
        slot = self.slots.slot(slot_name)
        active = self.slots.active(slot.id)
        if active is None:
            return None
        wanted = active.mlflow_version
        if not wanted:
            wanted = self._register(slot, active, self.models.get(active.model_id))
            self.slots.set_mlflow_version(active.id, wanted)
        name = slot_registered_name(slot.name)
        try:
            if self.tracker.alias_version(name, CHAMPION) != wanted:
                self.tracker.set_alias(name, CHAMPION, wanted)
        except RegistryError as exc:
            raise RegistryError(
                f"Slot {slot.name!r} now serves {active.version}, but MLflow's {CHAMPION} alias "
                f"could not follow: {exc}. It is repaired on the next switch."
            ) from None
        return wanted

    def _model(self, model: str | ModelRecord) -> ModelRecord:
        if isinstance(model, ModelRecord) and model.id is not None:
            return model
        name = model.name if isinstance(model, ModelRecord) else model
        try:
            return self.models.resolve(name)
        except NotFoundError:
            raise UserInputError(f"model: no model named {name!r} in the registry.") from None
