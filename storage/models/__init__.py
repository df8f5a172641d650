"""The tables, as typed `Mapped[]` models. The Alembic migrations are the schema of record.

Import models from here (`from storage.models import Actor`); the submodules group them by
subject.
"""

from storage.models.actors import Account, Actor, ActorType
from storage.models.articles import Article, ArticleState, ArticleVersion
from storage.models.auth import Invitation, OAuthApp, OAuthCode, OAuthToken, RecoveryCode, SecondFactor, WebSession
from storage.models.base import Base, UTCDateTime, utcnow
from storage.models.communities import Community, CommunityBan, CommunityModerator, JoinPolicy, PostingPolicy
from storage.models.content import (
    Activity,
    Announce,
    Bookmark,
    IdempotencyKey,
    Like,
    Media,
    Mention,
    Object,
    ObjectEdit,
    Pin,
    Tag,
    Visibility,
)
from storage.models.notices import Announcement, AnnouncementDismissal, AnnouncementReaction, CustomEmoji
from storage.models.filters import FILTER_CONTEXTS, Filter, FilterAction, FilterKeyword, FilterStatus
from storage.models.notification_policy import NotificationPolicy, NotificationRequest, PolicyAction, RequestState
from storage.models.polls import Poll, PollOption, PollVote
from storage.models.push import PushDelivery, PushSubscription, VapidKey
from storage.models.quotes import Quote, QuoteState
from storage.models.conversations import Conversation
from storage.models.lists import List, ListMember
from storage.models.reports import Report
from storage.models.scheduled import ScheduledStatus
from storage.models.tags import FeaturedTag, FollowedTag
from storage.models.queues import (
    Delivery,
    DeliveryState,
    HealthProbe,
    InboxItem,
    InboxState,
    Peer,
    PeerState,
    PeerSubscription,
)
from storage.models.social import (
    AccountNote,
    AuditEntry,
    Block,
    FeedEntry,
    Follow,
    FollowState,
    InstanceProfile,
    Marker,
    Mute,
    Notification,
    NotificationType,
)

__all__ = [
    "Announcement", "AnnouncementDismissal", "AnnouncementReaction", "CustomEmoji",
    "Community", "CommunityBan", "CommunityModerator", "JoinPolicy", "PostingPolicy",
    "AuditEntry", "InstanceProfile", "Invitation", "PeerSubscription", "OAuthCode", "Media", "Bookmark", "Pin", "IdempotencyKey",
    "Mute", "Marker", "HealthProbe", "FeedEntry", "Poll", "PollOption", "PollVote",
    "Account", "Activity", "Actor", "ActorType", "Announce", "Base", "Block", "Delivery",
    "DeliveryState", "Follow", "FollowState", "InboxItem", "InboxState", "Like", "Mention",
    "Notification", "NotificationType", "OAuthApp", "OAuthToken", "RecoveryCode", "SecondFactor", "WebSession", "Object", "ObjectEdit", "Peer",
    "PeerState", "Tag", "UTCDateTime", "Visibility", "utcnow", "PushDelivery", "PushSubscription", "VapidKey",
    "FILTER_CONTEXTS", "Filter", "FilterAction", "FilterKeyword", "FilterStatus",
    "NotificationPolicy", "NotificationRequest", "PolicyAction", "RequestState",
    "FeaturedTag", "FollowedTag", "Quote", "QuoteState", "Article", "ArticleState", "ArticleVersion", "Report",
    "List", "ListMember", "ScheduledStatus", "Conversation", "AccountNote",
]
