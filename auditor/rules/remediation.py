"""Per-platform remediation steps shared by several rules."""

from __future__ import annotations

MAKE_PRIVATE: dict[str, str] = {
    "google-groups": "Groups admin console > group > Settings > General: set 'Who can see "
    "group' and 'Who can view conversations' to Group members.",
    "microsoft365": "Teams > team > ... > Edit team > Privacy: Private (or in the Microsoft 365 "
    "admin center, Teams & groups > Active teams & groups > Privacy: Private).",
    "discord": "Server Settings > Enable Community: turn off Discovery and remove the vanity URL; "
    "make channels private to a member role.",
    "groupme": "Group settings: turn off 'Share group' and set the group to hidden.",
    "canvas": "Set the group's is_public to false (course or account group settings).",
    "schoology": "Group > Edit Group > Privacy: Group members only.",
    "facebook": "Group settings > Privacy: Private, and Hide group: Hidden.",
    "default": "Change the group's privacy so that only members can read posts.",
}

INVITE_ONLY: dict[str, str] = {
    "google-groups": "Groups admin console > group > Settings > Member privacy: set 'Who can "
    "join group' to Only invited users.",
    "microsoft365": "Make the team Private; add members from the owner account only.",
    "discord": "Server Settings > Invites: delete invites that never expire or have unlimited "
    "uses; create each invite with an expiry and max uses 1.",
    "groupme": "Group settings: turn off the share link and 'Anyone can join'; add members "
    "yourself.",
    "canvas": "Group set > Edit: 'Students can sign up for groups' off; set join_level to "
    "invitation_only.",
    "schoology": "Group > Edit Group > Invite type: Invite only; reset the access code.",
    "facebook": "Group settings > Membership: only admins approve; turn off member invites.",
    "default": "Require an invitation from the employee to join and remove open join links.",
}

MODERATE: dict[str, str] = {
    "google-groups": "Groups admin console > group > Settings > Posting policies: Message "
    "moderation: Moderate all messages (or only managers can post).",
    "microsoft365": "Channel > Manage channel > Channel moderation: On; only owners can post "
    "new messages.",
    "discord": "Limit Send Messages to a role the employee grants, enable AutoMod and "
    "membership screening.",
    "groupme": "Make it an announcement group (only admins post) or review posts daily.",
    "canvas": "Course settings: restrict students from creating discussion topics; "
    "moderate group discussions.",
    "schoology": "Group > Edit Group > Member permissions: members cannot post updates "
    "without approval.",
    "facebook": "Group settings > Discussion: Post approval on.",
    "default": "Turn on post approval or restrict posting to the page's moderators.",
}

ADD_MEMBER: dict[str, str] = {
    "google-groups": "Groups admin console > group > Members > Add members: add the supervisor "
    "(Manager role is enough).",
    "microsoft365": "Teams > team > Manage team > Members > Add member: add the supervisor.",
    "discord": "Invite the supervisor with a one-use invite and give them a moderator role.",
    "groupme": "Group > Members > Add members: add the supervisor.",
    "canvas": "Add the supervisor to the course or group as an observer or teacher.",
    "schoology": "Group > Members > Add Members: add the supervisor as an admin.",
    "facebook": "Invite the supervisor and make them an admin or moderator of the group.",
    "default": "Add the supervisor to the group as a member (any role).",
}
