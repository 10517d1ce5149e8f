"""Composition root: settings → stores → sources → services (→ window for the GUI).

The single place that wires collaborators together; nothing else builds services.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop_registry.config import Settings
from desktop_registry.domain import ModelRecord, Source
from desktop_registry.services.events import EventHub, Topic
from desktop_registry.storage import Database, ModelRepository

# Sources and services are imported where they are built, not here: the window must open
# fast, and the openai SDK, MLflow and the library index cost seconds to import together.
if TYPE_CHECKING:
    from desktop_registry.services.endpoints.store import Endpoint, EndpointStore
    from desktop_registry.services.evaluation.benchmarks import BenchmarkService
    from desktop_registry.services.evaluation.catalog import SuiteCatalog
    from desktop_registry.services.evaluation.metric_comparison import ComparisonData
    from desktop_registry.services.evaluation.runner import EvaluationRunner
    from desktop_registry.services.experiments.service import ExperimentService
    from desktop_registry.services.finetune.base_models import BaseModels
    from desktop_registry.services.jobs.service import JobKind, JobService
    from desktop_registry.services.library.catalog import LibraryService
    from desktop_registry.services.library.comparison import ComparisonService
    from desktop_registry.services.library.compatibility import CompatibilityService
    from desktop_registry.services.library.hardware import HardwareProbe
    from desktop_registry.services.library.recommend import RecommendationService
    from desktop_registry.services.optimization.service import OptimizationService
    from desktop_registry.services.registry.browse import RegistryBrowser
    from desktop_registry.services.registry.local_models import LocalModels
    from desktop_registry.services.serving.conversations import ChatPresets, ConversationService
    from desktop_registry.services.serving.service import ServingService
    from desktop_registry.services.settings.store import SettingsStore
    from desktop_registry.services.sync.all_sources import SyncAll
    from desktop_registry.services.sync.mlflow import MlflowSync
    from desktop_registry.services.sync.ollama import OllamaSync
    from desktop_registry.services.sync.remote import CatalogCache
    from desktop_registry.services.versions.service import VersionService
    from desktop_registry.sources.credentials import TokenStore
    from desktop_registry.sources.github_models import GitHubModelsSource
    from desktop_registry.sources.ollama import OllamaSource
    from desktop_registry.sources.openai_compatible import OpenAICompatibleSource
    from desktop_registry.sources.rate_limit import RateLimiter
    from desktop_registry.storage.evaluation_repository import EvaluationRepository
    from desktop_registry.tracking.mlflow import MlflowTracker


@dataclass
class AppContext:
    """Everything a front end (CLI or window) needs, built once from Settings."""

    settings: Settings
    db: Database
    models: ModelRepository
    events: EventHub = field(default_factory=EventHub)
    # The Ollama version last seen (/api/version, set by the window's check): memory estimates
    # follow that version's accounting; None = both accountings, the larger reported.
    ollama_version: str | None = None
    _retired: list[Any] = field(default_factory=list)  # clients replaced by a settings change
    # Long-lived adapters, built on first use and closed once by aclose(): the Ollama client
    # (its connection pool), the GitHub Models client, one client per endpoint, the tracker.
    _ollama: OllamaSource | None = None
    _github: GitHubModelsSource | None = None
    _endpoint_sources: dict[tuple[str, str], OpenAICompatibleSource] = field(default_factory=dict)
    _tracker: MlflowTracker | None = None
    _limiter: RateLimiter | None = None
    _tokens: TokenStore | None = None
    _hardware: HardwareProbe | None = None
    _jobs: JobService | None = None

    def settings_store(self) -> SettingsStore:
        """settings.json (in config.settings_dir()); a change there reaches this context's
        Settings at once and is announced on `events` as Topic.SETTINGS_CHANGED."""
        from desktop_registry.config import settings_path
        from desktop_registry.services.settings.store import SettingsStore

        return SettingsStore(settings_path(), self.settings, self.events)

    def ollama(self) -> OllamaSource:
        """The one Ollama client of this context, for the Ollama URL in the settings."""
        from desktop_registry.sources.ollama import OllamaSource

        if self._ollama is None or self._ollama.base_url != self.settings.ollama_url.rstrip("/"):
            if self._ollama is not None:
                self._retired.append(self._ollama)  # closed with the others in aclose()
            self._ollama = OllamaSource(
                self.settings.ollama_url,
                timeout_s=self.settings.request_timeout_s,
                connect_timeout_s=self.settings.connect_timeout_s,
                max_connections=max(
                    16, self.settings.sync_concurrency, self.settings.eval_concurrency
                ),
            )
        return self._ollama

    def registry(self) -> RegistryBrowser:
        """The registry as the window reads it (tree entries, one model, its variants)."""
        from desktop_registry.services.registry.browse import RegistryBrowser
        from desktop_registry.storage.model_index import ModelIndex

        return RegistryBrowser(self.models, ModelIndex(self.db))

    def local_models(self) -> LocalModels:
        """Ollama's own verbs (pull, rm, ps, stop) over the registry, for the window and the CLI."""
        from desktop_registry.services.registry.local_models import LocalModels

        return LocalModels(self.ollama(), self.registry())

    def ollama_sync(self, source: OllamaSource | None = None) -> OllamaSync:
        from desktop_registry.services.sync.ollama import OllamaSync

        return OllamaSync(
            source or self.ollama(), self.models, concurrency=self.settings.sync_concurrency
        )

    # ----- remote models (GitHub Models, OpenAI-compatible endpoints) -----------------------
    def token_store(self) -> TokenStore:
        from desktop_registry.sources.credentials import TokenStore

        if self._tokens is None:
            self._tokens = TokenStore(self.settings.home)
        return self._tokens

    def endpoints(self) -> EndpointStore:
        from desktop_registry.services.endpoints.store import EndpointStore
        from desktop_registry.sources.credentials import SecretStore

        return EndpointStore(self.settings.home, SecretStore(self.settings.home))

    def catalog_cache(self) -> CatalogCache:
        from desktop_registry.services.sync.remote import CatalogCache

        return CatalogCache(self.settings.home / "cache" / "github_models_catalog.json")

    def rate_limiter(self) -> RateLimiter:
        """One limiter per context, so every GitHub call made here shares the same budget."""
        from desktop_registry.sources.rate_limit import FREE_PLAN_TIERS, RateLimiter, TierLimit

        if self._limiter is None:
            tiers = dict(FREE_PLAN_TIERS)
            for tier, values in self.settings.github_rate_limits.items():
                base = tiers.get(tier, TierLimit()).__dict__
                tiers[tier] = TierLimit(**{**base, **values})
            self._limiter = RateLimiter(
                tiers,
                window_s=self.settings.github_rate_window_s,
                max_wait_s=self.settings.github_max_wait_s,
            )
        return self._limiter

    def github_models(self) -> GitHubModelsSource:
        from desktop_registry.sources.github_models import GitHubModelsSource

        if self._github is not None:
            return self._github
        self._github = GitHubModelsSource(
            self.settings.github_models_url,
            token=self.token_store().get,
            org=self.settings.github_org,
            gate=self.rate_limiter(),
            tier_of=self.catalog_cache().tier_of,
            timeout_s=self.settings.request_timeout_s,
            connect_timeout_s=self.settings.connect_timeout_s,
        )
        return self._github

    def endpoint_source(self, endpoint: Endpoint) -> OpenAICompatibleSource:
        from desktop_registry.sources.openai_compatible import OpenAICompatibleSource
        from desktop_registry.sources.rate_limit import RateLimiter

        key = (endpoint.name, endpoint.base_url)
        if key in self._endpoint_sources:
            return self._endpoint_sources[key]
        store = self.endpoints()
        kind: type[OpenAICompatibleSource] = OpenAICompatibleSource
        if endpoint.kind == "llamacpp":
            from desktop_registry.sources.llamacpp import LlamaCppSource

            kind = LlamaCppSource
        source = kind(
            endpoint.name,
            endpoint.base_url,
            api_key=lambda: store.api_key(endpoint.name),
            gate=RateLimiter({}, source_label=endpoint.name),  # no tiers: 429/5xx backoff only
            timeout_s=self.settings.request_timeout_s,
            connect_timeout_s=self.settings.connect_timeout_s,
        )
        self._endpoint_sources[key] = source
        return source

    async def llamacpp_status(self, record: ModelRecord) -> list[tuple[str, str]]:
        """A llama.cpp server model's live state (ready/loading, busy slots) as label/value rows."""
        from desktop_registry.services.sync.llamacpp import refresh_status
        from desktop_registry.sources.llamacpp import LlamaCppSource

        source = self.endpoint_source(self.endpoints().get(record.provider))
        if not isinstance(source, LlamaCppSource):
            return []
        return await refresh_status(source, self.models, record)

    def github_sync_enabled(self) -> bool:
        mode = self.settings.github_models_sync
        return mode == "always" or (mode == "auto" and self.token_store().get() is not None)

    def sync_all(self) -> SyncAll:
        """Ollama, GitHub Models (see Settings.github_models_sync) and every endpoint, at once."""
        from desktop_registry.domain.sync import SkippedSource
        from desktop_registry.services.sync.all_sources import SourceSync, SyncAll
        from desktop_registry.services.sync.llamacpp import LlamaCppSync
        from desktop_registry.services.sync.remote import EndpointSync, GitHubModelsSync
        from desktop_registry.sources.llamacpp import LlamaCppSource

        syncs: list[tuple[str, SourceSync]] = [("ollama", self.ollama_sync())]
        skipped: list[SkippedSource] = []
        if self.github_sync_enabled():
            syncs.append(
                (
                    Source.GITHUB_MODELS.value,
                    GitHubModelsSync(self.github_models(), self.models, self.catalog_cache()),
                )
            )
        elif self.settings.github_models_sync == "auto":  # say so rather than skip silently
            skipped.append(
                SkippedSource(
                    source=Source.GITHUB_MODELS.value,
                    reason="GitHub Models were skipped because no GitHub token is set",
                    fix="Set one with `desktop-registry-cli token set` (or GH_TOKEN, or Settings "
                    "→ GitHub Models in the window); to list the catalog without a token, set "
                    "DESKTOP_REGISTRY_GITHUB_MODELS_SYNC=always.",
                )
            )
        for endpoint in self.endpoints().list():
            source = self.endpoint_source(endpoint)
            if isinstance(source, LlamaCppSource):
                sync: SourceSync = LlamaCppSync(source, self.models)
            else:
                sync = EndpointSync(source, self.models)
            syncs.append((f"{Source.OPENAI_COMPATIBLE.value}:{endpoint.name}", sync))
        if self.mlflow_store_exists():
            syncs.append((Source.MLFLOW.value, self.mlflow_sync()))
        return SyncAll(syncs, skipped)

    def mlflow_store_exists(self) -> bool:
        """MLflow is read back only where there is a store: a chosen URI or a local mlflow.db."""
        from desktop_registry.tracking.mlflow import default_tracking_uri

        data_dir = self.db.path.parent
        return (
            self.mlflow_tracking_uri() != default_tracking_uri(data_dir)
            or (data_dir / "mlflow.db").exists()
        )

    def serving(self) -> ServingService:
        """The one serving interface: Ollama locally, GitHub Models and each endpoint remotely."""
        from desktop_registry.services.serving.ensemble import ExperimentBackend
        from desktop_registry.services.serving.service import ServingService

        service = ServingService(self.models, {Source.OLLAMA: self.ollama()}, events=self.events)
        service.register_backend(Source.GITHUB_MODELS, self.github_models())
        for endpoint in self.endpoints().list():
            service.register_backend(
                Source.OPENAI_COMPATIBLE, self.endpoint_source(endpoint), endpoint.name
            )
        # Ensembles and remote variants (source=mlflow) are applied at request time.
        service.register_backend(Source.MLFLOW, ExperimentBackend(service, self.models))
        return service

    # ----- desktop window: jobs and saved conversations ---------------------------------------
    def jobs(self) -> JobService:
        """One job service per context: it owns this process's running jobs (sync, pull, …)."""
        from desktop_registry.services.jobs.service import JobService
        from desktop_registry.storage.job_repository import JobRepository

        if self._jobs is None:
            jobs = JobService(JobRepository(self.db), events=self.events)
            jobs.register("sync", self._sync_job)
            jobs.register("pull", self._pull_job)
            jobs.register("evaluation", self._evaluation_job)
            jobs.register("optimization", self._optimization_job)
            jobs.register("finetune", self._finetune_job)
            self._jobs = jobs
        return self._jobs

    def _sync_job(self) -> JobKind:
        from desktop_registry.services.sync.job import sync_job_kind

        return sync_job_kind(self.sync_all)

    def _pull_job(self) -> JobKind:
        from desktop_registry.services.library.pulls import pull_job_kind

        return pull_job_kind(self.ollama, self.ollama_sync)

    def _evaluation_job(self) -> JobKind:
        from desktop_registry.services.evaluation.job import evaluation_job_kind

        return evaluation_job_kind(self.evaluation)

    def _optimization_job(self) -> JobKind:
        from desktop_registry.services.optimization.job import optimization_job_kind

        return optimization_job_kind(self.optimization)

    def optimization(self, *, tracked: bool = True) -> OptimizationService:
        """Studies on Optuna: storage from the optuna_storage setting (settings.json or
        DESKTOP_REGISTRY_OPTUNA_STORAGE; any SQLAlchemy URL) or optuna.db beside the registry;
        trials run through the evaluation runner."""
        from desktop_registry.services.optimization.resources import num_ctx_fit
        from desktop_registry.services.optimization.service import OptimizationService
        from desktop_registry.services.optimization.storage import default_storage_url
        from desktop_registry.services.optimization.trial import ollama_memory_probe

        url = self.settings.optuna_storage.strip()
        return OptimizationService(
            self.evaluation(tracked=False),
            url or default_storage_url(self.db.path.parent),
            import_suite=self.eval_suites().import_file,
            memory=ollama_memory_probe(self.ollama),
            fits_num_ctx=num_ctx_fit(self.hardware().profile),
            experiments=lambda: self.experiments(tracked=tracked),
            tracker=self.tracker() if tracked and self.mlflow_store_exists() else None,
        )

    def _finetune_job(self) -> JobKind:
        from desktop_registry.services.finetune.run import finetune_job_kind

        return finetune_job_kind(
            self.finetune_dir(), self.base_models, self.experiments, self.tracker
        )

    def finetune_dir(self) -> Path:
        """Where fine-tune runs keep their data split, checkpoints and adapters."""
        return self.db.path.parent / "finetune"

    def base_models(self) -> BaseModels:
        """Ollama base → Hugging Face weights, with the user's choices in base_models.json."""
        from desktop_registry.services.finetune.base_models import OVERRIDES_FILE, BaseModels

        return BaseModels(self.finetune_dir() / OVERRIDES_FILE)

    def conversations(self) -> ConversationService:
        from desktop_registry.services.serving.conversations import ConversationService
        from desktop_registry.storage.job_repository import ConversationRepository

        return ConversationService(ConversationRepository(self.db))

    def chat_presets(self) -> ChatPresets:
        from desktop_registry.services.serving.conversations import ChatPresets

        return ChatPresets(self.settings_store())

    # ----- model library, hardware fit, recommendations ------------------------------------
    def library(self) -> LibraryService:
        from desktop_registry.services.library.catalog import LibraryService
        from desktop_registry.storage.library_index import LibraryIndex

        return LibraryService(
            LibraryIndex(self.db),
            self.models,
            imported_catalog_path=self.settings.home / "library" / "catalog.json",
        )

    def hardware(self) -> HardwareProbe:
        """One probe per context: it caches what it found (refresh with profile(refresh=True))."""
        from desktop_registry.services.library.hardware import HardwareProbe

        if self._hardware is None:
            self._hardware = HardwareProbe()
        return self._hardware

    def compatibility(self) -> CompatibilityService:
        from desktop_registry.services.library.compatibility import CompatibilityService

        service = CompatibilityService(self.hardware(), self.library())
        service.ollama_version = self.ollama_version
        return service

    def recommendations(self) -> RecommendationService:
        from desktop_registry.services.library.compatibility import CompatibilityService
        from desktop_registry.services.library.recommend import RecommendationService

        library = self.library()
        fit = CompatibilityService(self.hardware(), library)
        fit.ollama_version = self.ollama_version
        return RecommendationService(library, fit)

    def comparison(self) -> ComparisonService:
        from desktop_registry.services.library.comparison import ComparisonService
        from desktop_registry.services.library.compatibility import CompatibilityService
        from desktop_registry.services.library.recommend import RecommendationService

        library = self.library()
        compatibility = CompatibilityService(self.hardware(), library)
        compatibility.ollama_version = self.ollama_version
        return ComparisonService(
            library, compatibility, RecommendationService(library, compatibility)
        )

    # ----- experiments, MLflow tracking, slots and versions ----------------------------------
    def mlflow_tracking_uri(self) -> str:
        """The MLflow store, first found: the MLFLOW_TRACKING_URI environment variable (what
        MLflow itself honours, e.g. a team server), then Settings.mlflow_tracking_uri
        (DESKTOP_REGISTRY_MLFLOW_TRACKING_URI or the Settings dialog), then mlflow.db beside
        the registry."""
        import os

        from desktop_registry.tracking.mlflow import default_tracking_uri

        return (
            os.environ.get("MLFLOW_TRACKING_URI", "").strip()
            or self.settings.mlflow_tracking_uri
            or default_tracking_uri(self.db.path.parent)
        )

    def default_mlflow_tracking_uri(self) -> str:
        """mlflow.db beside the registry: where experiments go when no URI is chosen."""
        from desktop_registry.tracking.mlflow import default_tracking_uri

        return default_tracking_uri(self.db.path.parent)

    def tracker(self) -> MlflowTracker:
        """The store of mlflow_tracking_uri(); a local store keeps its artifacts beside it."""
        from desktop_registry.tracking.mlflow import MlflowTracker

        uri = self.mlflow_tracking_uri()
        if self._tracker is not None and self._tracker.tracking_uri == uri:
            return self._tracker
        artifacts: Path | None = None
        if uri.startswith("sqlite:///"):
            artifacts = Path(uri.removeprefix("sqlite:///")).parent / "mlartifacts"
        elif uri.startswith(("sqlite:", "file:")):
            artifacts = self.db.path.parent / "mlartifacts"
        self._tracker = MlflowTracker(uri, artifact_root=artifacts)
        return self._tracker

    def experiments(self, *, tracked: bool = True) -> ExperimentService:
        from desktop_registry.services.experiments.service import ExperimentService

        return ExperimentService(self.models, self.ollama(), self.tracker() if tracked else None)

    def versions(self, *, tracked: bool = True) -> VersionService:
        from desktop_registry.services.versions.service import VersionService
        from desktop_registry.storage.slots import SlotRepository

        return VersionService(
            self.models, SlotRepository(self.db), self.tracker() if tracked else None
        )

    def mlflow_sync(self) -> MlflowSync:
        from desktop_registry.services.sync.mlflow import MlflowSync

        return MlflowSync(self.tracker(), self.models)

    # ----- evaluation, benchmarks and comparison ---------------------------------------------
    def evaluation_store(self) -> EvaluationRepository:
        from desktop_registry.storage.evaluation_repository import EvaluationRepository

        return EvaluationRepository(self.db)

    def eval_suites(self) -> SuiteCatalog:
        from desktop_registry.services.evaluation.catalog import SuiteCatalog

        return SuiteCatalog(self.evaluation_store())

    def metric_comparison(self) -> ComparisonData:
        """Recorded metrics side by side, for the Compare panel's charts."""
        from desktop_registry.services.evaluation.metric_comparison import ComparisonData

        return ComparisonData(self.models, self.evaluation_store())

    def evaluation(self, *, tracked: bool = True) -> EvaluationRunner:
        """One suite across many models, at most Settings.eval_concurrency requests per source."""
        from desktop_registry.services.evaluation.runner import EvaluationRunner

        return EvaluationRunner(
            self.models,
            self.serving(),
            self.evaluation_store(),
            limits=self.settings.eval_concurrency,
            tracker=self.tracker() if tracked and self.mlflow_store_exists() else None,
        )

    def benchmarks(self, *, tracked: bool = True) -> BenchmarkService:
        from desktop_registry.services.evaluation.benchmarks import BenchmarkService

        return BenchmarkService(
            self.models,
            self.serving(),
            self.evaluation_store(),
            tracker=self.tracker() if tracked and self.mlflow_store_exists() else None,
        )

    async def aclose(self) -> None:
        """Close every client this context built; the next use builds fresh ones (a CLI
        command may run a second event loop, and a client belongs to the loop it was made on)."""
        sources: list[Any] = [*self._retired, *self._endpoint_sources.values()]
        sources += [s for s in (self._ollama, self._github) if s is not None]
        self._retired.clear()
        self._endpoint_sources.clear()
        self._ollama = self._github = None
        for source in sources:
            await source.aclose()

    def close(self) -> None:
        self.db.dispose()


def build_context(settings: Settings | None = None, *, db_path: Path | None = None) -> AppContext:
    settings = settings or Settings()
    path = db_path or settings.db_path
    if db_path is None:
        settings.ensure_home()
    db = Database.open(path)
    events = EventHub()
    # Every committed registry write is announced: the window refreshes itself from this.
    models = ModelRepository(db, on_change=lambda: events.publish(Topic.MODELS_CHANGED))
    return AppContext(settings=settings, db=db, models=models, events=events)
